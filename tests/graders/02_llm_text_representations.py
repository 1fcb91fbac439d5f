"""Hidden checks for exercises/02_llm_text_representations.ipynb.

q1 reads WordPiece output with the packaged MiniLM tokenizer (loaded in both the learner's kernel
and the grader process, so the judge recomputes the answer itself); q2 and q3 are pure NumPy on
fresh seeded inputs. See translearn_lib/grading/__init__.py for the format.
"""

import numpy as np

from translearn_lib.grading import Question, checks

# ---------------------------------------------------------------------- q1: words split by WordPiece
_TITLES = [
    "Shawshank Redemption, The", "Toy Story", "Dr. Strangelove", "Ciao, Professore!", "Twelve Monkeys",
    "Babe", "GoldenEye", "Desperado", "Braveheart", "Kolya", "Trainspotting", "Ghost in the Shell",
    "Rumble in the Bronx", "Mighty Aphrodite", "Priest", "Heavenly Creatures", "Nadja", "Cyclo",
]
_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


def _q1_texts(seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(6):
        title = str(rng.choice(_TITLES))
        fake = "".join(rng.choice(_LETTERS, size=int(rng.integers(7, 12))))  # rare: always split
        year = int(rng.integers(1930, 1999))
        out.append(f"{title} {fake.capitalize()} ({year})" if rng.random() < 0.5 else f"{fake} {title}")
    return out


def _tokenizer():
    from transformers import AutoTokenizer

    from translearn_lib.encoders import text
    return AutoTokenizer.from_pretrained(str(text.packaged_minilm_path()))


def _reference_split(tokenizer, s):
    words = []
    for piece in tokenizer.tokenize(s):
        if piece.startswith("##") and words:
            words[-1].append(piece[2:])
        else:
            words.append([piece])
    return ["".join(w) for w in words if len(w) > 1]


def probe_q1(ns, seed):
    f = checks.get_function(ns, "split_words")
    tok = _tokenizer()
    out = []
    for s in _q1_texts(seed):
        got = checks.call(f, tok, s)
        if not isinstance(got, (list, tuple)):
            raise AssertionError(f"split_words should return a list of str, got {type(got).__name__}")
        out.append([str(w) for w in got])
    return out


def judge_q1(seed, data):
    tok = _tokenizer()
    for s, got in zip(_q1_texts(seed), data):
        want = _reference_split(tok, s)
        if list(got) != want:
            raise AssertionError(f"split_words(tok, {s!r}): pieces {tok.tokenize(s)} -> expected {want}, got {list(got)}")


# ------------------------------------------------------------------------ q2: masked mean pooling
def _q2_inputs(seed):
    rng = np.random.default_rng(seed)
    b, length, d = int(rng.integers(4, 8)), int(rng.integers(5, 10)), int(rng.integers(3, 7))
    seq = rng.normal(size=(b, length, d)) + rng.normal(size=(1, length, d)) * 3  # positions differ a lot
    lengths = rng.integers(1, length + 1, size=b)
    lengths[0], lengths[1], lengths[2] = 0, length, rng.integers(1, length)  # empty, full, partial rows
    mask = np.arange(length)[None, :] < lengths[:, None]
    return seq, mask


def probe_q2(ns, seed):
    seq, mask = _q2_inputs(seed)
    out = checks.call(checks.get_function(ns, "masked_mean_pool"), seq.copy(), mask.copy())
    return checks.as_array(out, "masked_mean_pool(sequence, mask)", shape=(seq.shape[0], seq.shape[2]))


def judge_q2(seed, data):
    seq, mask = _q2_inputs(seed)
    want = np.zeros((seq.shape[0], seq.shape[2]))
    for i, row in enumerate(mask):
        if row.any():
            want[i] = seq[i, row].mean(axis=0)
    got = np.asarray(data, dtype=float)
    if not np.isfinite(got).all():
        raise AssertionError("the result contains nan/inf: a row without real tokens must give zeros "
                             "(divide by max(count, 1))")
    checks.assert_close(got, want, "masked mean of the real tokens", atol=1e-6, rtol=1e-6)


# --------------------------------------------------------------------------- q3: cosine top-k
def _q3_inputs(seed):
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(12, 20)), int(rng.integers(3, 6))
    E = rng.normal(size=(n, d)) * rng.uniform(0.1, 10.0, size=(n, 1))   # very different lengths
    queries = [int(q) for q in rng.choice(n, size=3, replace=False)]
    return E, queries, int(rng.integers(2, 5))


def _reference_top_k(E, q, k):
    U = E / np.linalg.norm(E, axis=1, keepdims=True)
    sims = U @ U[q]
    sims[q] = -np.inf
    return [int(i) for i in np.argsort(-sims, kind="stable")[:k]]


def probe_q3(ns, seed):
    E, queries, k = _q3_inputs(seed)
    f = checks.get_function(ns, "top_k_similar")
    out = []
    for q in queries:
        got = checks.as_array(checks.call(f, E.copy(), q, k), f"top_k_similar(E, {q}, {k})")
        out.append([int(i) for i in got.ravel()])
    return out


def judge_q3(seed, data):
    E, queries, k = _q3_inputs(seed)
    for q, got in zip(queries, data):
        want = _reference_top_k(E, q, k)
        if list(got) != want:
            hint = " (never return the query itself)" if q in got else ""
            raise AssertionError(f"query {q}, k={k}: expected {want} (cosine, most similar first), got {list(got)}{hint}")


QUESTIONS = [
    Question("q1", points=2, title="words split by WordPiece", probe=probe_q1, judge=judge_q1, wrong={
        "every word": (
            "def split_words(tokenizer, s):\n"
            "    return [p for p in tokenizer.tokenize(s) if not p.startswith('##')]\n"),
        "keeps the ## markers": (
            "def split_words(tokenizer, s):\n"
            "    words = []\n"
            "    for p in tokenizer.tokenize(s):\n"
            "        if p.startswith('##') and words:\n"
            "            words[-1].append(p)\n"
            "        else:\n"
            "            words.append([p])\n"
            "    return [''.join(w) for w in words if len(w) > 1]\n"),
        "continuation pieces only": (
            "def split_words(tokenizer, s):\n"
            "    return [p[2:] for p in tokenizer.tokenize(s) if p.startswith('##')]\n"),
    }),
    Question("q2", points=3, title="masked mean pooling", probe=probe_q2, judge=judge_q2, wrong={
        "padding included": "def masked_mean_pool(sequence, mask):\n    return np.asarray(sequence).mean(axis=1)\n",
        "divides by the padded length": (
            "def masked_mean_pool(sequence, mask):\n"
            "    m = np.asarray(mask, float)[..., None]\n"
            "    return (np.asarray(sequence) * m).sum(axis=1) / m.shape[1]\n"),
        "nan on empty rows": (
            "def masked_mean_pool(sequence, mask):\n"
            "    m = np.asarray(mask, float)[..., None]\n"
            "    with np.errstate(invalid='ignore', divide='ignore'):\n"
            "        return (np.asarray(sequence) * m).sum(axis=1) / m.sum(axis=1)\n"),
        "[CLS] vector": "def masked_mean_pool(sequence, mask):\n    return np.asarray(sequence)[:, 0, :]\n",
    }),
    Question("q3", points=3, title="cosine top-k neighbours", probe=probe_q3, judge=judge_q3, wrong={
        "dot product, not cosine": (
            "def top_k_similar(embeddings, query, k):\n"
            "    E = np.asarray(embeddings, float)\n"
            "    s = E @ E[query]\n"
            "    s[query] = -np.inf\n"
            "    return np.argsort(-s)[:k]\n"),
        "includes the query": (
            "def top_k_similar(embeddings, query, k):\n"
            "    E = np.asarray(embeddings, float)\n"
            "    E = E / np.linalg.norm(E, axis=1, keepdims=True)\n"
            "    return np.argsort(-(E @ E[query]))[:k]\n"),
        "least similar first": (
            "def top_k_similar(embeddings, query, k):\n"
            "    E = np.asarray(embeddings, float)\n"
            "    E = E / np.linalg.norm(E, axis=1, keepdims=True)\n"
            "    s = E @ E[query]\n"
            "    s[query] = np.inf\n"
            "    return np.argsort(s)[:k]\n"),
    }),
]
