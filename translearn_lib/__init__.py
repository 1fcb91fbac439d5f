"""translearn_lib — the library behind the translearn course.

Transfer learning with language models for recommender systems: one module per concept
(``config``, ``cache``, ``datasets``, ``splits``, ``metrics``, ``embeddings``, ``encoders``,
``keras_transfer``, ``vision``, ``recommenders``, ``crossdomain``, ``adaptation``, ``coldstart``, ``experiments``, ``plots``,
``grading``; docs/library.md has the map).
Submodules are imported explicitly, e.g. ``from translearn_lib import metrics``, so that importing
the package never pulls in TensorFlow.
"""

__version__ = "0.1.0"
