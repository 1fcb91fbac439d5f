"""A generative LLM as a recommender (chapter 10), on :mod:`translearn_lib.encoders.llm` (SmolLM2).

* :mod:`translearn_lib.llm.prompts` — a user's history as text, prompt wordings, TALLRec's Yes/No
  question, and matching free-text answers back to the catalogue;
* :mod:`translearn_lib.llm.ranking` — the LLM as a zero-shot ranker (candidate log-likelihoods) on
  sampled candidate sets from chapter 06's cold-item split, its baselines, and its sensitivity to
  candidate order and wording;
* :mod:`translearn_lib.llm.lora` — LoRA instruction tuning on "history -> like this film? Yes/No".

Submodules are imported explicitly, so importing the package never starts TensorFlow.

Taught in notebooks/10_generative_llms.ipynb.
"""
