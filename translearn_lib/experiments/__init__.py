"""Experiment runners shared by chapters and benchmarks: learning curves and the ML-100K comparison.

* :mod:`translearn_lib.experiments.comparison` — the ML-100K model comparison (chapter 03, benchmarks/ml100k.py).

Submodules are imported explicitly (``from translearn_lib.experiments import curves``).
"""
