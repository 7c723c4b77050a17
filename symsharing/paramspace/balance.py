"""Conserved quantities of training from the rescaling symmetry of ReLU (and linear) hidden units.

Kunin, Sagastuy-Brena, Ganguli, Yamins & Tanaka, "Neural Mechanics" (ICLR 2021); Zhao, Ganev,
Walters, Yu & Dehmamy, "Symmetries, Flat Minima, and the Conserved Quantities of Gradient Flow"
(ICLR 2023). Multiplying the incoming weights and bias of a ReLU unit ``k`` by ``s > 0`` and
dividing its outgoing weights by ``s`` leaves the function unchanged; differentiating in ``s`` at
1 gives ``∇L · A_k θ = 0`` at every θ, where the generator ``A_k θ`` is ``+θ`` on the unit's incoming
weights and bias and ``−θ`` on its outgoing weights. So the unit's *balance*

    Q_k(θ) = ‖θ_in‖² − ‖θ_out‖²    (for an MLP: ‖W_l[k, :]‖² + b_l[k]² − ‖W_{l+1}[:, k]‖²)

has ``dQ_k/dt = 2 A_k θ · θ̇ = −2 ∇L · A_k θ = 0`` under gradient flow. Gradient descent with step
η on the loss plus the L2 penalty ``(λ/2)‖θ‖²`` moves θ to ``(1 − ηλ) θ − η g``; Q_k is a quadratic
form whose cross term ``θ · A_k g`` is the vanishing ``∇L · A_k θ``, so one step changes it by
exactly

    Q_k(θ') = (1 − ηλ)² Q_k(θ) + η² Q_k(g),     Q_k(g) = ‖g_in‖² − ‖g_out‖²,

(``g``: the loss's gradient without the penalty; mini-batch SGD obeys the same with the batch's
gradient). A deep *linear* network (``MLP(..., activation="identity")``) has all of GL(width) on
each hidden layer, and the whole matrix ``M_l = W_l W_lᵀ + b_l b_lᵀ − W_{l+1}ᵀ W_{l+1}`` obeys the
same step formula (``linear_balance``; its diagonal is ``neuron_balance``; Zhao et al. write
``−M_l``).

Which models keep the symmetry (``rescalable_units``): an exact ReLU or linear ``MLP`` without
LayerNorm (every hidden unit) and a ``SharedMLP`` (every hidden *channel*: the units of a channel
share their weights, so only whole channels rescale). GELU, the gates and the σ-Asymmetric network
have none (their nonlinearity is not positively homogeneous); LayerNorm cancels a scale of the
whole layer, not of one unit. In a W-Asymmetric network (Lim et al. 2024) a fixed entry is not
multiplied by the rescaling, so a unit keeps its symmetry only if neither its incoming row nor its
outgoing column holds a nonzero fixed entry: with ``n_fixed >= 1`` and ``fixed_std > 0`` every
incoming row holds one, and no unit keeps it.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from symsharing._checks import check_int, check_nonnegative
from symsharing.engine.stacks import OPTIMIZERS, make_optimizer
from symsharing.models import MLP, SharedMLP
from symsharing.paramspace.permutation_spec import hidden_sizes, permutation_spec
from symsharing.train import loss_function

__all__ = ["rescalable_units", "neuron_balance", "linear_balance", "balance_after_step", "balance_trajectory"]


def _homogeneous(model) -> bool:
    """True when every hidden nonlinearity commutes with positive scaling unit by unit."""
    if type(model) is SharedMLP:
        return True
    if isinstance(model, MLP):
        return (type(model).hidden_activation is MLP.hidden_activation and not model.layer_norm
                and model.activation in ("relu", "identity"))
    return False


def rescalable_units(model) -> list[torch.Tensor]:
    """For each hidden layer, a BoolTensor ``[units]``: which units (``SharedMLP``: channels) keep
    the positive-rescaling symmetry (see the module docstring). All False for a model whose
    nonlinearity has none; TypeError for a model that is neither an ``MLP`` (or subclass) nor a
    ``SharedMLP``."""
    permutation_spec(model)  # TypeError for any other model
    if isinstance(model, SharedMLP) and type(model) is not SharedMLP:
        raise TypeError(f"rescalable_units knows the exact SharedMLP, not the subclass "
                        f"{type(model).__name__} (its extra parameters are outside the permutation spec)")
    sizes = hidden_sizes(model)
    if not _homogeneous(model):
        return [torch.zeros(size, dtype=torch.bool) for size in sizes]
    keep = [torch.ones(size, dtype=torch.bool) for size in sizes]
    for index, layer in enumerate(model.layers):
        if not hasattr(layer, "fixed_mask"):
            continue
        nonzero = (layer.fixed_mask & (layer.fixed_values != 0)).cpu()  # (out, in): fixed, not rescaled
        if index < model.depth:
            keep[index] &= ~nonzero.any(dim=1)  # the unit's incoming row
        if index > 0:
            keep[index - 1] &= ~nonzero.any(dim=0)  # the unit's outgoing column
    return keep


def _quadratic_form(model, tensors: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """``Σ_in ‖t‖² − Σ_out ‖t‖²`` per unit of each hidden layer, for tensors shaped like the parameters."""
    totals = [0.0] * model.depth
    for axes in permutation_spec(model):
        view = tensors[axes.name].reshape(axes.view)
        if axes.out_layer is not None:  # axis 0: the units this tensor feeds (their incoming weights)
            totals[axes.out_layer] = totals[axes.out_layer] + view.pow(2).reshape(len(view), -1).sum(1)
        if axes.in_layer is not None:  # axis 1: the units this tensor reads (their outgoing weights)
            reads = view.transpose(0, 1)  # (units, ...)
            totals[axes.in_layer] = totals[axes.in_layer] - reads.pow(2).reshape(len(reads), -1).sum(1)
    return totals


def _check_symmetric(model, what: str) -> None:
    units = rescalable_units(model)
    if not _homogeneous(model):
        activation, layer_norm = getattr(model, "activation", None), getattr(model, "layer_norm", None)
        raise TypeError(f"{what} needs hidden units with the positive-rescaling symmetry (ReLU or identity, "
                        f"no LayerNorm, no gate); {type(model).__name__} with activation={activation!r}, "
                        f"layer_norm={layer_norm} has none")
    broken = sum(int((~u).sum()) for u in units)
    if broken:
        total = sum(len(u) for u in units)
        raise ValueError(f"{what}: {broken} of the {total} hidden units of this {type(model).__name__} "
                         f"have a nonzero fixed entry in their incoming row or outgoing column, so their "
                         f"rescaling is not a symmetry and nothing is conserved; rescalable_units(model) "
                         f"says which")


def neuron_balance(model) -> list[torch.Tensor]:
    """For each hidden layer ``l``, ``[units]``: ``‖W_l[k, :]‖² + b_l[k]² − ‖W_{l+1}[:, k]‖²`` (for a
    ``SharedMLP``, the same sums over the channel's tied parameters), the quantity unit ``k``'s
    rescaling conserves under gradient flow. TypeError for a model without the symmetry, ValueError
    for a W-Asymmetric network whose fixed entries break it (see ``rescalable_units``)."""
    _check_symmetric(model, "neuron_balance")
    with torch.no_grad():
        return [q.detach() for q in _quadratic_form(model, dict(model.named_parameters()))]


def _check_linear(mlp) -> None:
    if type(mlp) is not MLP or mlp.activation != "identity" or mlp.layer_norm:
        raise TypeError(f"linear_balance needs a deep linear network, MLP(..., activation='identity') "
                        f"without LayerNorm; got {type(mlp).__name__} with activation="
                        f"{getattr(mlp, 'activation', None)!r}")


def _linear_form(mlp, tensors: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """``W_l W_lᵀ + b_l b_lᵀ − W_{l+1}ᵀ W_{l+1}`` per hidden layer for tensors shaped like the parameters."""
    forms = []
    for index in range(mlp.depth):
        weight, bias = tensors[f"layers.{index}.weight"], tensors[f"layers.{index}.bias"]  # (w, in), (w,)
        outgoing = tensors[f"layers.{index + 1}.weight"]  # (out, w)
        forms.append(weight @ weight.T + bias[:, None] * bias[None, :] - outgoing.T @ outgoing)  # (w, w)
    return forms


def linear_balance(mlp) -> list[torch.Tensor]:
    """For a deep linear ``MLP``, one ``[width, width]`` matrix per hidden layer:
    ``W_l W_lᵀ + b_l b_lᵀ − W_{l+1}ᵀ W_{l+1}``, conserved by gradient flow (its diagonal is
    ``neuron_balance``). TypeError for any other model."""
    _check_linear(mlp)
    with torch.no_grad():
        return _linear_form(mlp, dict(mlp.named_parameters()))


def _gradients(model, grads) -> dict[str, torch.Tensor]:
    named = dict(model.named_parameters())
    if grads is None:
        missing = [name for name, p in named.items() if p.grad is None]
        if missing:
            raise ValueError(f"balance_after_step reads each parameter's .grad, but {missing[:3]} have none: "
                             f"call loss.backward() first or pass grads")
        return {name: p.grad for name, p in named.items()}
    if not isinstance(grads, dict) or set(grads) != set(named):
        raise ValueError(f"grads must be a dict with one tensor per parameter name {sorted(named)[:4]}..., "
                         f"got {type(grads).__name__}")
    for name, p in named.items():
        if not isinstance(grads[name], torch.Tensor) or grads[name].shape != p.shape:
            raise ValueError(f"grads[{name!r}] must be a tensor of shape {tuple(p.shape)}")
    return grads


def balance_after_step(model, grads=None, *, lr: float, weight_decay: float = 0.0,
                       matrix: bool = False) -> list[torch.Tensor]:
    """The balance one gradient-descent step will leave: ``(1 − lr·λ)² Q(θ) + lr² Q(g)``.

    ``grads``: the loss's gradient (without the penalty), a dict name -> tensor, or None to read
    each parameter's ``.grad``; ``weight_decay`` λ: the L2 penalty ``(λ/2)‖θ‖²`` that the step also
    descends (``make_optimizer``'s ``"gd"``/``"sgd"``). ``matrix``: the deep linear network's matrix
    (``linear_balance``) instead of ``neuron_balance``.
    """
    lr = check_nonnegative(lr, "lr")
    weight_decay = check_nonnegative(weight_decay, "weight_decay")
    if matrix:
        _check_linear(model)
        form = _linear_form
    else:
        _check_symmetric(model, "balance_after_step")
        form = _quadratic_form
    grads = _gradients(model, grads)
    with torch.no_grad():
        now = form(model, dict(model.named_parameters()))
        step = form(model, {name: g.detach() for name, g in grads.items()})
        return [(1 - lr * weight_decay) ** 2 * q + lr ** 2 * s for q, s in zip(now, step, strict=True)]


def _flat(values: list[torch.Tensor]) -> np.ndarray:
    return torch.cat([v.flatten() for v in values]).double().cpu().numpy()


def balance_trajectory(model, X: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float,
                       optimizer: str = "gd", weight_decay: float = 0.0, momentum: float = 0.9,
                       batch_size: int | None = None, seed: int = 0, matrix: bool = False) -> dict:
    """Train a copy of ``model`` step by step and record its balance before and after every step.

    Returns ``{"measured": [steps + 1, units], "predicted": [steps, units] or None, "loss": [steps],
    "model": the trained copy}`` (NumPy float64; units of every hidden layer side by side, or the
    flattened matrices when ``matrix``). ``predicted[s]`` is ``balance_after_step`` at step ``s``,
    the exact value for ``"gd"`` and ``"sgd"``; None for ``"momentum"`` and ``"adam"``, which
    have no such formula. Mini-batches (``batch_size``) are drawn with replacement from
    ``torch.Generator(seed)``; the loss is ``train.loss_function``.
    """
    steps = check_int(steps, "steps", minimum=1)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    if batch_size is not None:
        check_int(batch_size, "batch_size", minimum=1, meaning=" (or None for full batch)")
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor) or len(X) != len(y) or len(X) == 0:
        raise ValueError("X and y must be non-empty tensors of the same length")
    measure = linear_balance if matrix else neuron_balance
    model = copy.deepcopy(model).train()
    measured, predicted, losses = [_flat(measure(model))], [], []
    optim = make_optimizer(optimizer, [p for p in model.parameters() if p.requires_grad], lr,
                           weight_decay, momentum)
    generator = torch.Generator().manual_seed(check_int(seed, "seed"))
    exact = optimizer in ("gd", "sgd")
    for _ in range(steps):
        index = None if batch_size is None else torch.randint(len(X), (batch_size,), generator=generator)
        inputs, targets = (X, y) if index is None else (X[index], y[index])
        loss = loss_function(model(inputs), targets)  # (); the penalty is in the optimizer's step
        optim.zero_grad(set_to_none=True)
        loss.backward()
        if exact:
            after = balance_after_step(model, lr=lr, weight_decay=weight_decay, matrix=matrix)
            predicted.append(_flat(after))
        optim.step()
        measured.append(_flat(measure(model)))
        losses.append(float(loss.detach()))
    return {"measured": np.stack(measured), "predicted": np.stack(predicted) if exact else None,
            "loss": np.asarray(losses), "model": model.eval()}
