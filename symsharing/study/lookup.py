"""A ring model as a table: its outputs on all 2^16 rings computed once, then read by input code.

The ring task's inputs are ±1 rows of 16 bits, so every input a ring model is ever scored on (test,
moved, out-of-distribution, orbit slices, the exact population of ``ceilings.population_score``)
is one of the 2^16 rows of ``ceilings.ring_inputs``. Scoring a trained network through
``RingTable`` costs one forward pass over those rows instead of one per metric; an orbit average
over 16 elements (``augment.OrbitAverage``) becomes 16 look-ups instead of 16 forward passes.
The outputs are the network's own (the same rows through the same layers, in other batches: equal
up to the float rounding of a matrix product's blocking).
"""

from __future__ import annotations

import torch
from torch import nn

from symsharing.study.ceilings import ring_inputs
from symsharing.tasks import RingTask, Task

__all__ = ["RingTable", "tabulated"]


class RingTable(nn.Module):
    """``x -> model(x)`` for ±1 rows ``x [b, n]``, read from ``model``'s outputs on all ``2^n`` rows
    (row ``r`` of ``ring_inputs(n)`` has bit ``i`` = bit ``i`` of ``r``). A batch with any entry
    other than ±1 is passed to ``model`` itself."""

    def __init__(self, model: nn.Module, n: int = 16):
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(n, int) or not 1 <= n <= 24:
            raise ValueError(f"n must be an int in [1, 24] (a table of 2^n rows), got {n!r}")
        self.model, self.n = model, n
        dtype = next(model.parameters()).dtype
        with torch.no_grad():
            self.register_buffer("outputs", model(ring_inputs(n).to(dtype)), persistent=False)  # (2^n, out)
        self.register_buffer("halves", 2.0 ** torch.arange(n, dtype=dtype) / 2, persistent=False)  # (n,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] != self.n:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"RingTable expects input [batch, {self.n}], got {shape}")
        if not bool((x.abs() == 1).all()):
            return self.model(x)
        codes = ((x + 1) @ self.halves.to(x.dtype)).long()  # (b,): sum of 2^i over the +1 bits, exact
        return self.outputs[codes]  # (b, out)


def tabulated(task: Task, model: nn.Module) -> nn.Module:
    """``RingTable(model)`` on the ring task, ``model`` itself on any other task."""
    return RingTable(model, task.group.n) if isinstance(task, RingTask) else model
