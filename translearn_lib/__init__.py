"""translearn_lib — the library behind the translearn course.

Transfer learning with language models for recommender systems: one module per concept
(``config``, ``datasets``, ``splits``, ``text``, ``recommenders``, ``metrics``, ``transfer``, ...).
Submodules are imported explicitly, e.g. ``from translearn_lib import metrics``, so that importing
the package never pulls in TensorFlow.
"""

__version__ = "0.1.0"
