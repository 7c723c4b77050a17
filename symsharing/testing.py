"""Equivariance checks with dtype-aware tolerances, shared by the tests and the chapters (as in e3nn).

The tolerance is relative to the size of the output: ``atol = rtol(dtype) * max(1, max|f(x)|)``
with ``rtol`` 1e-5 for float32 and 1e-10 for float64 unless ``atol`` is given.
"""

from __future__ import annotations

import torch

from symsharing._checks import check_int
from symsharing.groups import PermutationGroup

__all__ = ["assert_invariant", "assert_equivariant", "default_tolerance"]

_RTOL = {torch.float16: 1e-2, torch.bfloat16: 1e-2, torch.float32: 1e-5, torch.float64: 1e-10}


def default_tolerance(reference: torch.Tensor) -> float:
    """Absolute tolerance for comparing with ``reference``, scaled by its magnitude and dtype."""
    scale = max(1.0, float(reference.detach().abs().max())) if reference.numel() else 1.0
    return _RTOL.get(reference.dtype, 1e-5) * scale


def _elements(function, group: PermutationGroup, x, atol, n_elements: int, seed: int) -> torch.Tensor:
    """Check the common arguments; return the elements to test (all of G when it is small enough)."""
    if not callable(function):
        raise TypeError(f"the model or layer to check must be callable, got {type(function).__name__}")
    if not isinstance(group, PermutationGroup):
        raise TypeError(f"group must be a PermutationGroup, got {type(group).__name__}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if atol is not None and (isinstance(atol, bool) or not isinstance(atol, (int, float)) or not atol >= 0):
        raise ValueError(f"atol must be None (dtype-aware default) or a number >= 0, got {atol!r}")
    n_elements = check_int(n_elements, "n_elements", minimum=1)
    if group.order() <= n_elements:
        return group.elements()
    return group.random_elements(n_elements, torch.Generator().manual_seed(seed))


def _check_close(actual, expected, atol, what: str, g: torch.Tensor) -> None:
    atol = default_tolerance(expected) if atol is None else atol
    error = float((actual - expected).abs().max()) if expected.numel() else 0.0
    if not error <= atol:
        raise AssertionError(f"not {what} under g={g.tolist()}: max error {error:.3g} > atol {atol:.3g}")


@torch.no_grad()
def assert_invariant(model, group: PermutationGroup, x: torch.Tensor, atol: float | None = None,
                     n_elements: int = 16, seed: int = 0) -> None:
    """Assert ``model(G.act(g, x)) == model(x)`` for every g (small groups) or ``n_elements`` random g."""
    elements = _elements(model, group, x, atol, n_elements, seed)
    expected = model(x)
    for g in elements:
        _check_close(model(group.act(g, x)), expected, atol, "invariant", g)


@torch.no_grad()
def assert_equivariant(layer, group: PermutationGroup, x: torch.Tensor, atol: float | None = None,
                       n_elements: int = 16, seed: int = 0) -> None:
    """Assert ``layer(G.act(g, x)) == G.act(g, layer(x))`` for every g or ``n_elements`` random g."""
    elements = _elements(layer, group, x, atol, n_elements, seed)
    output = layer(x)
    for g in elements:
        _check_close(layer(group.act(g, x)), group.act(g, output), atol, "equivariant", g)
