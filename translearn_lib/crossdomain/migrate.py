"""Train on source -> migrate -> fine-tune on target -> recommend, with the course's Keras two-tower model.

:class:`MigratedTwoTower` is step 2 of that pipeline: a target
:class:`~translearn_lib.recommenders.TwoTower` that starts from a model fitted on the source. Importing
this module does not import Keras (the two-tower model imports it when it trains).

Taught in notebooks/04_cross_domain_recommendation.ipynb.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from translearn_lib.recommenders import TwoTower


class MigratedTwoTower(TwoTower):
    """A :class:`~translearn_lib.recommenders.TwoTower` for the target that starts from a source model.

    Step 2 of "train on source -> migrate -> fine-tune on target -> recommend": the user embedding
    table (users are shared) and the text projection (BERT space -> recommendation space, the same
    for every domain) are copied from the source model; target item ID embeddings, if used, start
    at zero so that a new item is first scored by its text alone. Step 3 is ordinary training on
    the target for few epochs. Layers named in ``freeze`` are not updated (feature extraction
    instead of fine-tuning). The learning rate is worth choosing on validation data: the target
    item ids start at zero and must be learnt within those few epochs, so the gentle default can
    be too slow (the chapter compares it with the source model's rate).

    Args:
        pretrained: a fitted ``TwoTower`` trained on the source domain (``use_item_ids=False``
            or ``True``; only user and projection weights are carried over).
        item_features: (n_target_items, d_text) text embeddings of the target items.
        freeze: layer names to keep fixed, from ``("user_emb", "text_projection")``.
        epochs, lr: fine-tuning budget (defaults: short and gentle; choose ``lr`` on validation).
        **kw: other ``TwoTower`` arguments (``use_item_ids``, ``batch_size``, ``reg``, ``seed``).

    Raises:
        ValueError: ``pretrained`` is not fitted, ``freeze`` names another layer, or ``dim``
            differs from the pretrained model's.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "migrated TwoTower"
    COPIED = ("user_emb", "text_projection")

    def __init__(self, pretrained: TwoTower, item_features, freeze: Sequence[str] = (), epochs: int = 10,
                 lr: float = 1e-3, **kw):
        if getattr(pretrained, "net_", None) is None:
            raise ValueError("pretrained must be a fitted TwoTower (call fit on the source first)")
        unknown = set(freeze) - set(self.COPIED)
        if unknown:
            raise ValueError(f"can only freeze {self.COPIED}, got {sorted(unknown)}")
        kw.setdefault("use_item_ids", True)
        dim = kw.pop("dim", pretrained.dim)
        if dim != pretrained.dim:
            raise ValueError(f"dim must match the pretrained model ({pretrained.dim}), got {dim}")
        super().__init__(item_features, dim=dim, epochs=epochs, lr=lr, **kw)
        self.pretrained, self.freeze = pretrained, tuple(freeze)

    def _build(self, X, data):
        net = super()._build(X, data)
        net(np.zeros((1, 3), dtype="int32"))  # create the weights
        source = {layer.name: layer for layer in self.pretrained.net_.layers}
        if source["user_emb"].get_weights()[0].shape[0] != X.shape[0]:
            raise ValueError("source and target must share the user index (build both from one CrossDomainTask)")
        for layer in net.layers:
            if layer.name in self.COPIED:
                layer.set_weights(source[layer.name].get_weights())
                layer.trainable = layer.name not in self.freeze
            elif layer.name == "item_emb":
                layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
        return net
