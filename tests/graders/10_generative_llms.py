"""Hidden checks for exercises/10_generative_llms.ipynb.

All four questions are pure NumPy/pandas on fresh seeded inputs; the judges recompute the answer
from the seed in the grader process. See translearn_lib/grading/__init__.py for the format.
"""

import numpy as np

from translearn_lib.grading import Question, checks


# ----------------------------------------------------------- q1: continuation log-likelihood
def _q1_inputs(seed, huge=False):
    rng = np.random.default_rng(seed)
    V, p, m = int(rng.integers(8, 20)), int(rng.integers(2, 6)), int(rng.integers(1, 5))
    ids = rng.integers(0, V, size=p + m).tolist()
    logits = rng.normal(scale=4.0, size=(p + m, V)) + (800.0 if huge else 0.0)  # huge logits overflow exp
    return logits, ids, p


def _reference_q1(logits, ids, p):
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(sum(logp[t - 1, ids[t]] for t in range(p, len(ids))))


def probe_q1(ns, seed):
    out = []
    for s in range(3):
        logits, ids, p = _q1_inputs(seed + s, huge=s == 0)
        out.append(float(checks.call(checks.get_function(ns, "continuation_logprob"), logits.copy(), list(ids), p)))
    return out


def judge_q1(seed, data):
    want = [_reference_q1(*_q1_inputs(seed + s, huge=s == 0)) for s in range(3)]
    got = np.asarray(data, float)
    if not np.isfinite(got).all():
        raise AssertionError("a result is nan/inf: subtract the row maximum before exp (stable log-softmax)")
    checks.assert_close(got, want, "summed log-probability of the continuation tokens", atol=1e-6)


# ----------------------------------------------------------------- q2: rank by mean log-likelihood
def _q2_inputs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 12))
    lengths = rng.integers(1, 6, size=n)
    means = np.round(rng.normal(-2.0, 1.0, size=n) * 4) / 4    # quarter steps: exact in floating point, and ties
    top = rng.choice(n, size=2, replace=False)
    means[top] = means.max() + 0.5                           # the two best tie: the lower index comes first
    return (means * lengths).tolist(), lengths.tolist(), int(rng.integers(2, 5))


def probe_q2(ns, seed):
    sums, lengths, k = _q2_inputs(seed)
    out = checks.call(checks.get_function(ns, "rank_by_loglik"), list(sums), list(lengths), k)
    return checks.as_array(out, "rank_by_loglik(sums, lengths, k)", shape=(k,)).astype(int).tolist()


def judge_q2(seed, data):
    sums, lengths, k = _q2_inputs(seed)
    mean = np.asarray(sums) / np.asarray(lengths)
    want = sorted(range(len(sums)), key=lambda i: (-round(mean[i], 9), i))[:k]
    if [int(i) for i in data] != want:
        by_sum = sorted(range(len(sums)), key=lambda i: (-sums[i], i))[:k]
        hint = " (that is the ranking by the summed log-likelihood: divide by the lengths)" if list(data) == by_sum else ""
        raise AssertionError(f"expected {want} (best mean first, ties -> lower index), got {list(data)}{hint}")


# ---------------------------------------------------------------------- q3: the history prompt
_NAMES = ["Alien (1979)", "Heat (1995)", "Fargo (1996)", "Toy Story (1995)", "Godfather, The (1972)",
          "Babe (1995)", "Casablanca (1942)", "Se7en (1995)", "Jaws (1975)", "Clerks (1994)"]


def _q3_inputs(seed):
    rng = np.random.default_rng(seed)
    n_rows = int(rng.integers(5, 10))
    titles = rng.choice(_NAMES, size=n_rows, replace=False).tolist()
    n = int(rng.integers(2, 4))
    ratings = rng.integers(1, 6, size=n_rows)
    ratings[rng.choice(n_rows, size=n + 2, replace=False)] = rng.integers(4, 6, size=n + 2)  # more liked than n
    ratings[rng.choice(n_rows)] = 2                            # and at least one disliked film
    times = rng.integers(0, 6, size=n_rows) * 10               # repeated timestamps: stable order matters
    return {"title": titles, "rating": ratings.tolist(), "timestamp": times.tolist()}, n


def _reference_q3(cols, n):
    rows = [(t, r, ts, j) for j, (t, r, ts) in enumerate(zip(cols["title"], cols["rating"], cols["timestamp"])) if r >= 4]
    rows.sort(key=lambda x: (x[2], x[3]))
    return "I watched and enjoyed these movies: " + "; ".join(r[0] for r in rows[-n:]) + ".\nAnother movie I will enjoy is"


def probe_q3(ns, seed):
    import pandas as pd

    cols, n = _q3_inputs(seed)
    out = checks.call(checks.get_function(ns, "history_prompt"), pd.DataFrame(cols), n)
    if not isinstance(out, str):
        raise AssertionError(f"history_prompt must return a str, got {type(out).__name__}")
    return out


def judge_q3(seed, data):
    cols, n = _q3_inputs(seed)
    want = _reference_q3(cols, n)
    if data != want:
        raise AssertionError(f"expected {want!r}, got {data!r} (liked = rating >= 4, the {n} most recent, oldest first, '; ')")


# ------------------------------------------------------------------- q4: LoRA trainable weights
def _q4_inputs(seed):
    rng = np.random.default_rng(seed)
    shapes = [tuple(int(x) for x in rng.integers(2, 12, size=3))]          # a 3-d kernel, like a query kernel
    shapes += [tuple(int(x) for x in rng.integers(2, 12, size=int(rng.integers(2, 4)))) for _ in range(int(rng.integers(0, 3)))]
    return shapes, int(rng.integers(1, 9)), int(rng.integers(2, 31))


def probe_q4(ns, seed):
    shapes, r, layers = _q4_inputs(seed)
    return int(checks.call(checks.get_function(ns, "lora_trainable"), [tuple(s) for s in shapes], r, layers))


def judge_q4(seed, data):
    shapes, r, layers = _q4_inputs(seed)
    want = layers * sum(int(np.prod(s[:-1])) * r + r * s[-1] for s in shapes)
    if int(data) != want:
        raise AssertionError(f"shapes {shapes}, rank {r}, {layers} layers: expected {want}, got {data}")


QUESTIONS = [
    Question("q1", points=3, title="continuation log-likelihood from logits", probe=probe_q1, judge=judge_q1, wrong={
        "off by one (row t scores token t)": (
            "def continuation_logprob(logits, ids, prompt_len):\n"
            "    z = np.asarray(logits, float); z = z - z.max(1, keepdims=True)\n"
            "    lp = z - np.log(np.exp(z).sum(1, keepdims=True))\n"
            "    return float(sum(lp[t, ids[t]] for t in range(prompt_len, len(ids))))\n"),
        "raw logits, no softmax": (
            "def continuation_logprob(logits, ids, prompt_len):\n"
            "    return float(sum(logits[t - 1][ids[t]] for t in range(prompt_len, len(ids))))\n"),
        "unstable softmax": (
            "def continuation_logprob(logits, ids, prompt_len):\n"
            "    p = np.exp(np.asarray(logits, float)); p = p / p.sum(1, keepdims=True)\n"
            "    return float(sum(np.log(p[t - 1, ids[t]]) for t in range(prompt_len, len(ids))))\n"),
    }),
    Question("q2", points=2, title="rank by mean log-likelihood", probe=probe_q2, judge=judge_q2, wrong={
        "by the sum": "def rank_by_loglik(sums, lengths, k):\n    return np.argsort(-np.asarray(sums), kind='stable')[:k]\n",
        "worst first": (
            "def rank_by_loglik(sums, lengths, k):\n"
            "    return np.argsort(np.asarray(sums) / np.asarray(lengths), kind='stable')[:k]\n"),
        "ties to the higher index": (
            "def rank_by_loglik(sums, lengths, k):\n"
            "    m = np.asarray(sums, float) / np.asarray(lengths)\n"
            "    return (len(m) - 1 - np.argsort(-m[::-1], kind='stable'))[:k]\n"),
    }),
    Question("q3", points=3, title="prompt from a user's history", probe=probe_q3, judge=judge_q3, wrong={
        "newest first": (
            "def history_prompt(rated, n, min_rating=4):\n"
            "    d = rated[rated['rating'] >= min_rating].sort_values('timestamp', kind='stable')\n"
            "    t = d['title'].tolist()[-n:][::-1]\n"
            "    return 'I watched and enjoyed these movies: ' + '; '.join(t) + '.\\nAnother movie I will enjoy is'\n"),
        "every rating kept": (
            "def history_prompt(rated, n, min_rating=4):\n"
            "    d = rated.sort_values('timestamp', kind='stable')\n"
            "    t = d['title'].tolist()[-n:]\n"
            "    return 'I watched and enjoyed these movies: ' + '; '.join(t) + '.\\nAnother movie I will enjoy is'\n"),
        "oldest n instead of most recent": (
            "def history_prompt(rated, n, min_rating=4):\n"
            "    d = rated[rated['rating'] >= min_rating].sort_values('timestamp', kind='stable')\n"
            "    t = d['title'].tolist()[:n]\n"
            "    return 'I watched and enjoyed these movies: ' + '; '.join(t) + '.\\nAnother movie I will enjoy is'\n"),
    }),
    Question("q4", points=2, title="LoRA trainable weights", probe=probe_q4, judge=judge_q4, wrong={
        "full kernel size": (
            "def lora_trainable(kernel_shapes, rank, n_layers):\n"
            "    return int(n_layers * sum(np.prod(s) for s in kernel_shapes))\n"),
        "A uses only the first dimension": (
            "def lora_trainable(kernel_shapes, rank, n_layers):\n"
            "    return int(n_layers * sum(s[0] * rank + rank * s[-1] for s in kernel_shapes))\n"),
        "one layer only": (
            "def lora_trainable(kernel_shapes, rank, n_layers):\n"
            "    return int(sum(np.prod(s[:-1]) * rank + rank * s[-1] for s in kernel_shapes))\n"),
    }),
]
