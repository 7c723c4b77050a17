"""Training and scoring K Bayesian MLPs at once: the ELBO, the posterior predictive, calibration.

The objective is Lim et al.'s (``bnn/alg.py``, after Tomczak et al. 2020): per model, the mean
negative log-likelihood of a mini-batch under one sample of the weights (local reparameterisation)
plus ``KL(q || prior) / n_train``; its negative is the ELBO per training example. The K models'
objectives are summed, so each gets exactly its own gradient, and Adam (elementwise) treats each
as if alone. Predictions average the class probabilities of ``samples`` weight samples (Lim et
al.: 25 at test time). The expected calibration error is the top-label L1 form with 15
equal-width confidence bins, as ``torchmetrics``' ``MulticlassCalibrationError`` that the paper uses.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from symsharing._checks import check_int
from symsharing.engine.stacks import make_adam
from symsharing.paramspace.bayes import BayesianMLP

__all__ = ["fit_variational", "predictive_log_probs", "expected_calibration_error", "posterior_scores"]


def _check_data(X, y, name: str) -> None:
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"{name}: X and y must be torch tensors, got {type(X).__name__} and "
                        f"{type(y).__name__}")
    if X.dim() != 2 or y.dim() != 1 or len(X) != len(y) or len(X) == 0:
        raise ValueError(f"{name}: expected X [n, features] and integer labels y [n], got shapes "
                         f"{tuple(X.shape)} and {tuple(y.shape)}")
    if y.dtype.is_floating_point:
        raise TypeError(f"{name}: y must hold integer class labels, got dtype {y.dtype}")


@torch.no_grad()
def predictive_log_probs(model: BayesianMLP, X: torch.Tensor, samples: int = 25) -> torch.Tensor:
    """``log mean_s softmax(f_s(X))`` for each model: ``[K, n, classes]`` over ``samples`` weight samples."""
    samples = check_int(samples, "samples", minimum=1)
    log_probs = torch.stack([F.log_softmax(model(X), -1) for _ in range(samples)])  # (S, K, n, C)
    return torch.logsumexp(log_probs, 0) - math.log(samples)


def expected_calibration_error(log_probs: torch.Tensor, y: torch.Tensor, n_bins: int = 15) -> float:
    """Top-label ECE: ``Σ_bins (|bin| / n) |accuracy(bin) - mean confidence(bin)|`` over ``n_bins``
    equal-width bins of the predicted class's probability; ``log_probs [n, classes]``, ``y [n]``."""
    n_bins = check_int(n_bins, "n_bins", minimum=1)
    if log_probs.dim() != 2 or y.shape != log_probs.shape[:1]:
        raise ValueError(f"expected log_probs [n, classes] and y [n], got {tuple(log_probs.shape)} and "
                         f"{tuple(y.shape)}")
    confidence, predicted = log_probs.exp().max(-1)
    confidence, hits = confidence.double().numpy(), (predicted == y).double().numpy()
    bins = np.clip(np.floor(confidence * n_bins).astype(int), 0, n_bins - 1)  # [low, high), as torchmetrics
    error = 0.0
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            error += inside.mean() * abs(hits[inside].mean() - confidence[inside].mean())
    return float(error)


def posterior_scores(model: BayesianMLP, X: torch.Tensor, y: torch.Tensor, samples: int = 25) -> list[dict]:
    """Per model: accuracy, NLL and ECE of the posterior predictive (``samples`` weight samples)."""
    _check_data(X, y, "posterior_scores")
    log_probs = predictive_log_probs(model, X, samples)  # (K, n, C)
    return [{"accuracy": float((lp.argmax(-1) == y).double().mean()),
             "nll": float(F.nll_loss(lp, y)), "ece": expected_calibration_error(lp, y)} for lp in log_probs]


@torch.no_grad()
def _elbo_terms(model: BayesianMLP, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Expected NLL per example over the whole set (one weight sample) and KL / n, each ``[K]``."""
    outputs = model(X)  # (K, n, C)
    nll = F.cross_entropy(outputs.transpose(1, 2), y.expand(model.n_models, -1), reduction="none").mean(1)
    return nll, model.kl() / len(X)


def fit_variational(model: BayesianMLP, X: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float = 5e-4,
                    batch_size: int = 64, seed: int = 0, X_test=None, y_test=None, checkpoints=(),
                    eval_samples: int = 4) -> dict:
    """Maximise each model's ELBO with Adam for ``steps`` mini-batch updates; return the curves.

    At each step in ``checkpoints`` (0 = before training) it records, per model, the ELBO per
    training example and its two terms (expected NLL on the whole training set with one weight
    sample, ``KL / n``) and, given test data, the test accuracy of the predictive with
    ``eval_samples`` samples. Mini-batches (with replacement) and weight noise come from ``seed``.
    Returns ``{"step": [...], "elbo", "nll", "kl", "test_accuracy": [one list of K per checkpoint]}``.
    """
    if not isinstance(model, BayesianMLP):
        raise TypeError(f"fit_variational trains a BayesianMLP, got {type(model).__name__}")
    _check_data(X, y, "fit_variational")
    steps = check_int(steps, "steps", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    checkpoints = sorted({check_int(c, "checkpoint") for c in checkpoints})
    if checkpoints and not 0 <= checkpoints[0] <= checkpoints[-1] <= steps:
        raise ValueError(f"checkpoints must lie in [0, {steps}], got {checkpoints}")
    torch.manual_seed(seed)  # the weight noise
    generator = torch.Generator().manual_seed(seed)  # the mini-batches
    optimizer = make_adam(model.parameters(), lr)
    k, n = model.n_models, len(X)
    curves = {"step": [], "elbo": [], "nll": [], "kl": [], "test_accuracy": []}

    def record(step: int) -> None:
        nll, kl = _elbo_terms(model, X, y)
        curves["step"].append(step)
        curves["nll"].append(nll.tolist())
        curves["kl"].append(kl.tolist())
        curves["elbo"].append((-(nll + kl)).tolist())
        if X_test is not None:
            log_probs = predictive_log_probs(model, X_test, eval_samples)
            curves["test_accuracy"].append((log_probs.argmax(-1) == y_test).double().mean(1).tolist())

    for step in range(steps + 1):
        if step in checkpoints:
            record(step)
        if step == steps:
            break
        index = torch.randint(n, (k, batch_size), generator=generator)  # (K, b): each model its own batch
        outputs = model(X[index])  # (K, b, C)
        nll = F.cross_entropy(outputs.transpose(1, 2), y[index], reduction="none").mean(1)  # (K,)
        loss = (nll + model.kl() / n).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return curves
