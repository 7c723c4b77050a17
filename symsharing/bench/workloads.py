"""The bench's workloads and their torch timings: the per-model loop and the stacked engine.

- ``REFERENCE``: K = 32 MLPs 16 -> 64 -> 64 -> 1, 512 samples each, full batch, 500 Adam steps
  (mean squared error on Gaussian data).
- ``TIED``: K = 32 ring models, ``SharedMLP(C16, 2 outputs, 8 channels, depth 2)`` as in the
  study, 128 ring samples each (the study's batch), full batch, 500 Adam steps (cross-entropy).

FLOPs are 3x the forward matmul FLOPs (forward + two backward products); for the tied models the
dense tied matrices the engine multiplies with (``models.count_macs(dense_equivalent=True)``).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn

from symsharing.groups import cyclic
from symsharing.models import MLP, SharedMLP, count_macs
from symsharing.tasks import RingTask
from symsharing.train import fit_many, loss_function

__all__ = ["Workload", "TiedWorkload", "REFERENCE", "TIED", "EXTRA", "TINY", "TINY_TIED", "gemm_peak",
           "time_loop", "time_engine", "final_loss"]


@dataclass(frozen=True)
class Workload:
    """K MLPs ``n_in -> width -> ... -> 1`` (``depth`` hidden layers), ``n`` samples, full batch."""

    k: int = 32
    n: int = 512
    n_in: int = 16
    width: int = 64
    depth: int = 2
    steps: int = 500

    @property
    def name(self) -> str:
        return f"K={self.k} {self.n_in}-{self.width}x{self.depth}-1 n={self.n} {self.steps} steps"

    def flops(self) -> int:
        """3x the forward matmul FLOPs of every model and step."""
        per_sample = self.n_in * self.width + self.width * self.width * (self.depth - 1) + self.width
        return 3 * 2 * self.n * per_sample * self.k * self.steps

    def data(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        generator = torch.Generator().manual_seed(0)
        return [(torch.randn(self.n, self.n_in, generator=generator),
                 torch.randn(self.n, 1, generator=generator)) for _ in range(self.k)]

    def models(self) -> list[nn.Module]:
        """The engine's models: ``models.MLP``, model k initialised from ``torch.manual_seed(k)``."""
        models = []
        for k in range(self.k):
            torch.manual_seed(k)
            models.append(MLP(self.n_in, 1, self.width, self.depth))
        return models

    def loop_model(self, k: int) -> nn.Module:
        """The loop's model k: a plain ``nn.Sequential`` of the same shape."""
        torch.manual_seed(k)
        sizes = [self.n_in] + [self.width] * self.depth
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        return nn.Sequential(*layers, nn.Linear(sizes[-1], 1))


@dataclass(frozen=True)
class TiedWorkload:
    """K ring models ``SharedMLP(C16, 2, channels, depth)`` on ``n`` ring samples each, full batch."""

    k: int = 32
    n: int = 128
    channels: int = 8
    depth: int = 2
    steps: int = 500

    @property
    def name(self) -> str:
        return f"tied K={self.k} C16 {self.channels}ch x{self.depth} n={self.n} {self.steps} steps"

    def flops(self) -> int:
        return 3 * 2 * self.n * count_macs(self.models()[0], dense_equivalent=True) * self.k * self.steps

    def data(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [RingTask().sample(self.n, seed) for seed in range(self.k)]

    def models(self) -> list[nn.Module]:
        models = []
        for k in range(self.k):
            torch.manual_seed(k)
            models.append(SharedMLP(cyclic(16), 2, self.channels, self.depth))
        return models

    def loop_model(self, k: int) -> nn.Module:
        return self.models()[k]


REFERENCE = Workload()
TIED = TiedWorkload()
# Steps of the extra rows are cut where a row would cost several times the reference's FLOPs,
# to keep the whole bench near five minutes; GFLOP/s and ratios stay comparable.
EXTRA = (Workload(width=16), Workload(width=256, steps=50), Workload(k=128, steps=125), Workload(n=100))
TINY = Workload(k=4, n=32, n_in=4, width=8, steps=5)
TINY_TIED = TiedWorkload(k=4, n=16, channels=2, steps=5)


def gemm_peak(size: int = 1024, reps: int = 7, per_rep: int = 4) -> float:
    """Median GFLOP/s of a float32 ``size x size`` matmul with the current thread count."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b  # warm-up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(per_rep):
            a @ b
        times.append((time.perf_counter() - start) / per_rep)
    return 2 * size**3 / statistics.median(times) / 1e9


def time_loop(w, data, models: int | None = None) -> float:
    """Seconds for the plain loop: one ``nn.Module`` and one ``torch.optim.Adam`` per model, in turn;
    with ``models``, the loop over the first ``models`` of them, scaled to all (the models are
    trained one after another, so the time is a sum over them)."""
    timed = data if models is None else data[:models]
    start = time.perf_counter()
    for k, (X, y) in enumerate(timed):
        model = w.loop_model(k)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        for _ in range(w.steps):
            loss = loss_function(model(X), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return (time.perf_counter() - start) * len(data) / len(timed)


def time_engine(w, data, compile: bool = False, models=None) -> float:
    """Seconds for ``fit_many`` on the workload's models and data (model construction included);
    ``models``: train these instead (they are trained in place)."""
    start = time.perf_counter()
    fit_many(w.models() if models is None else models, data, steps=w.steps, lr=1e-3, compile=compile)
    return time.perf_counter() - start


def final_loss(models, data) -> float:
    """Mean over the models of the training loss (MSE, or cross-entropy for labels) of ``models[k]``
    on ``data[k]``."""
    with torch.no_grad():
        losses = [loss_function(m(X), y) for m, (X, y) in zip(models, data, strict=True)]
    return float(sum(losses) / len(models))
