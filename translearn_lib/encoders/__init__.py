"""Pretrained encoders that turn items into vectors.

* :mod:`translearn_lib.encoders.text` — a BERT sentence encoder (tokenizer + KerasHub backbone),
  all-MiniLM-L6-v2 offline by default (chapter 02).

Submodules are imported explicitly (``from translearn_lib.encoders import text``), so importing
the package never pulls in TensorFlow.
"""
