"""The random draws of one training run, shared by ``fit`` and the stacked engine.

A run's randomness is its mini-batch indices and its augmentation elements. Both come from the
run's own ``torch.Generator(seed)`` alone, drawn in chunks of ``CHUNK_STEPS`` steps: for each chunk,
first the indices ``[steps, batch]`` (mini-batches only), then ``steps * batch`` group elements
(augmentation only). ``fit`` and ``fit_many`` consume the same stream, so a model trained in a
stack sees exactly the batches it would see alone, whatever else is in its stack.
"""

from __future__ import annotations

import torch

from symsharing.groups import PermutationGroup

__all__ = ["CHUNK_STEPS", "DrawStream"]

CHUNK_STEPS = 16


class DrawStream:
    """Chunks of random draws for one run on ``n`` samples of ``features`` inputs.

    ``batch_size`` None or ``>= n`` means full batch (no indices are drawn). Each chunk is a pair
    ``(index, inverse)``: ``index`` a LongTensor ``[steps, batch]`` or None, ``inverse`` a
    LongTensor ``[steps, batch, features]`` or None, the inverse permutations of the augmentation
    elements, so that ``x.gather(-1, inverse[t])`` equals ``group.act(elements[t], x)``.
    """

    def __init__(self, seed: int, n: int, features: int, batch_size: int | None,
                 group: PermutationGroup | None):
        if group is not None and group.n != features:
            raise ValueError(f"augmentation by {group.name} acts on {group.n} points, but the "
                             f"inputs have {features} features")
        self.generator = torch.Generator().manual_seed(int(seed))
        self.n = n
        self.full_batch = batch_size is None or batch_size >= n
        self.batch = n if self.full_batch else batch_size
        self.features = features
        self.group = group

    def draw(self, steps: int) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """The next ``steps`` steps' draws: ``(index [steps, batch] | None, inverse | None)``."""
        index = None
        if not self.full_batch:
            index = torch.randint(self.n, (steps, self.batch), generator=self.generator)
        inverse = None
        if self.group is not None:
            elements = self.group.random_elements(steps * self.batch, generator=self.generator)
            inverse = torch.argsort(elements, dim=-1).view(steps, self.batch, self.features)
        return index, inverse
