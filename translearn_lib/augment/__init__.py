"""Data augmentation for a sparse target domain (the generated shop's clothing with 5 % of its data).

* :mod:`.text` — masked and reworded item descriptions, encoded by the frozen MiniLM;
* :mod:`.borrow` — pseudo-interactions borrowed from the source domain (electronics) through text
  similarity;
* :mod:`.mixup` — mixup of user-profile embeddings and their labels;
* :mod:`.runner` — the chapter's line-up (each method against none), shared with ``benchmarks/privacy.py``.

Taught in notebooks/09_privacy_and_augmentation.ipynb.
"""

from .borrow import nearest_targets, pseudo_interactions
from .mixup import mixup
from .runner import METHODS, augmentation_run
from .text import MASK, mask_words, reword, text_views

__all__ = ["nearest_targets", "pseudo_interactions", "mixup", "METHODS", "augmentation_run", "MASK", "mask_words",
           "reword", "text_views"]
