"""Pretrained encoders that turn items into vectors.

* :mod:`translearn_lib.encoders.text` — a BERT sentence encoder (tokenizer + KerasHub backbone),
  all-MiniLM-L6-v2 offline by default (chapter 02);
* :mod:`translearn_lib.encoders._kerashub` — the only module that reads KerasHub's private BERT
  layer internals (the top layer's attention and feed-forward sub-blocks, chapter 03), with a
  self-check that names the KerasHub version when they change.

Submodules are imported explicitly (``from translearn_lib.encoders import text``), so importing
the package never pulls in TensorFlow.

Taught in notebooks/02_llm_text_representations.ipynb and notebooks/03_bert_recommender.ipynb.
"""
