"""Experiment runners shared by chapters and benchmarks: learning curves and the ML-100K comparison.

Submodules are imported explicitly (``from translearn_lib.experiments import curves``).
"""
