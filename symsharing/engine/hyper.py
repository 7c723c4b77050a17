"""Per-model hyperparameters inside one stack: learning rates, weight decays, label smoothing and
step budgets that differ from model to model, trained with one Adam(W) step for the whole stack.

Populations of networks trained with random hyperparameters (Lim, Putterman, Walters, Maron &
Jegelka, "The Empirical Impact of Neural Parameter Symmetries, or Lack Thereof", NeurIPS 2024,
``metanet_data/grid_runs/make_hparams.py``: a learning rate, a weight decay, a label smoothing and
a number of epochs drawn for every network) would otherwise put every network into a stack of its
own. Here a stack carries one value of each per model: ``PerModelAdam`` is Adam / AdamW written
for stacked tensors ``[K, ...]`` with a rate and a decay per model (the arithmetic of
``torch.optim.Adam``'s single-tensor step, so a model equals the one ``fit`` trains alone up to
float rounding), and a model whose budget is spent stops changing: its update is masked out while
the rest of its stack trains on.
"""

from __future__ import annotations

import torch

__all__ = ["StackHyperparameters", "PerModelAdam", "smoothed_cross_entropy"]



class StackHyperparameters:
    """One learning rate, weight decay, label smoothing and step budget per model of a stack of K."""

    def __init__(self, k_models: int, *, steps, lr, weight_decay, label_smoothing):
        def per_model(value, name):
            values = list(value) if isinstance(value, (list, tuple)) else [value] * k_models
            if len(values) != k_models:
                raise ValueError(f"{name} must be one value or {k_models} values, got {len(values)}")
            return values

        self.steps = [int(s) for s in per_model(steps, "steps")]
        self.lr = [float(r) for r in per_model(lr, "lr")]
        self.weight_decay = [float(d) for d in per_model(weight_decay, "weight_decay")]
        self.label_smoothing = [float(s) for s in per_model(label_smoothing, "label_smoothing")]
        self.uniform = all(len(set(values)) == 1 for values in
                           (self.steps, self.lr, self.weight_decay, self.label_smoothing))

    @property
    def total_steps(self) -> int:
        return max(self.steps)

    def active(self, step: int) -> torch.Tensor:
        """BoolTensor ``[K]``: the models whose budget is not yet spent at step ``step``."""
        return torch.tensor([step < s for s in self.steps])

    def smoothing(self, device: torch.device) -> float | torch.Tensor:
        """The label smoothing: one float when every model has the same, else a tensor ``[K]``."""
        if len(set(self.label_smoothing)) == 1:
            return self.label_smoothing[0]
        return torch.tensor(self.label_smoothing, device=device)


def smoothed_cross_entropy(outputs: torch.Tensor, y: torch.Tensor, smoothing: torch.Tensor) -> torch.Tensor:
    """Per-model mean cross-entropy ``[K]`` of ``outputs [K, b, C]`` against labels ``y [K, b]``,
    model k's targets smoothed by ``smoothing[k]``: ``(1 - s) NLL + (s / C) · Σ_c(-log p_c)``, each
    term averaged over the batch first, as ``F.cross_entropy(..., label_smoothing=s)`` does. The
    log-softmax is written out (shift by the row maximum, subtract the log-sum-exp): on a CPU it
    runs several times faster than ``log_softmax`` over a last dimension of 10 classes."""
    shifted = outputs - outputs.detach().amax(-1, keepdim=True)  # (K, b, C)
    log_p = shifted - shifted.exp().sum(-1, keepdim=True).log()  # (K, b, C)
    nll = -log_p.gather(-1, y.unsqueeze(-1)).squeeze(-1).mean(1)  # (K,)
    spread = -log_p.sum(-1).mean(1)  # (K,)
    s = smoothing.to(outputs.dtype)  # (K,)
    return (1 - s) * nll + spread * (s / outputs.shape[-1])


class PerModelAdam:
    """Adam (AdamW, decoupled, where a model's decay is > 0) on stacked parameters ``[K, ...]``,
    with a learning rate and a weight decay per model, in the arithmetic of ``torch.optim.Adam``'s
    single-tensor step. A model whose rate is 0 (its budget spent) keeps its parameters exactly:
    ``p * (1 - 0) - 0 * m / (sqrt(v) + eps)`` is ``p`` (its moments move on, unused)."""

    def __init__(self, params, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params = [p for p in params if p.requires_grad]
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.count = 0

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, rates: list[float], weight_decays: list[float]) -> None:
        self.count += 1
        correction1 = 1 - self.beta1 ** self.count
        correction2_sqrt = (1 - self.beta2 ** self.count) ** 0.5
        rates64 = torch.tensor(rates, dtype=torch.float64)  # (K,)
        shrink64 = 1 - rates64 * torch.tensor(weight_decays, dtype=torch.float64)  # (K,)
        step64 = rates64 / correction1
        decays = any(weight_decays)
        for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq, strict=True):
            if p.grad is None:
                continue
            shape = (-1,) + (1,) * (p.dim() - 1)
            if decays:
                p.mul_(shrink64.to(p.device, p.dtype).view(shape))
            m.lerp_(p.grad, 1 - self.beta1)
            v.mul_(self.beta2).addcmul_(p.grad, p.grad, value=1 - self.beta2)
            denom = (v.sqrt() / correction2_sqrt).add_(self.eps)
            p.sub_(m / denom * step64.to(p.device, p.dtype).view(shape))
