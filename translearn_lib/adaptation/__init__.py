"""Unsupervised domain adaptation: labelled source, unlabelled target, align the two.

- :mod:`~translearn_lib.adaptation.coral`: :func:`coral_loss` (Deep CORAL) and the closed-form
  :func:`coral_align` (Sun et al. 2016).
- :mod:`~translearn_lib.adaptation.mmd`: multi-kernel Gaussian :func:`mmd_loss` (DAN, Long et al. 2015).
- :mod:`~translearn_lib.adaptation.dann`: the gradient reversal layer (``GradientReversal``,
  :func:`reverse_gradient`), the lambda schedule :func:`dann_lambda`, :func:`build_domain_head`,
  :func:`build_dann` (Ganin et al. 2016).
- :mod:`~translearn_lib.adaptation.training`: one loop for all four methods (:func:`fit_adapted`),
  :func:`compare_methods` over seeds, :func:`summarize_methods`, and a small
  :func:`build_mlp_classifier` for fixed vectors such as text embeddings.
- :mod:`~translearn_lib.adaptation.diagnostics`: :func:`proxy_a_distance`, :func:`label_distribution`.

Keras and TensorFlow are imported inside the functions, so importing this package stays NumPy-only.

Taught in notebooks/05_domain_adaptation.ipynb.
"""

from .coral import check_feature_batches, coral_align, coral_loss, covariance, symmetric_power
from .dann import DOMAIN_HEAD_NAME, build_dann, build_domain_head, check_lambda, dann_lambda, reverse_gradient
from .diagnostics import label_distribution, proxy_a_distance, total_variation
from .mmd import bandwidth_multipliers, mmd_loss
from .training import (METHODS, AdaptationRun, build_mlp_classifier, check_domains, compare_methods, fit_adapted,
                       summarize_methods)

__all__ = ["check_feature_batches", "covariance", "coral_loss", "symmetric_power", "coral_align",
           "bandwidth_multipliers", "mmd_loss", "DOMAIN_HEAD_NAME", "check_lambda", "dann_lambda", "reverse_gradient",
           "GradientReversal", "build_domain_head", "build_dann", "METHODS", "AdaptationRun", "build_mlp_classifier",
           "check_domains", "fit_adapted", "compare_methods", "summarize_methods", "proxy_a_distance",
           "label_distribution", "total_variation"]


def __getattr__(name: str):
    # GradientReversal is a Keras layer, created on first access (importing the package stays Keras-free).
    if name == "GradientReversal":
        from . import dann as _dann

        return _dann.GradientReversal
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
