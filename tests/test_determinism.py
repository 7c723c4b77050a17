"""Determinism: the same seed gives bit-identical data and trained weights, in this process and in a
fresh one (a subprocess that runs the same function and prints a hash)."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from symsharing.models import MLP, SharedMLP
from symsharing.tasks import get_task
from symsharing.train import fit, seed_everything

TESTS = Path(__file__).resolve().parent
CASES = [("set", "mlp", False), ("ring", "shared", False), ("grid", "mlp", True), ("set", "shared", True)]


def tensor_hash(*tensors: torch.Tensor) -> str:
    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(str((tuple(tensor.shape), tensor.dtype)).encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def data_hash(task_name: str, seed: int) -> str:
    task = get_task(task_name)
    return tensor_hash(*task.sample(64, seed), *task.sample_ood(16, seed))


def train_and_hash(task_name: str, family: str, augment: bool, seed: int = 3) -> str:
    """Sample data, build a model from ``seed_everything(seed)``, train it; hash the trained weights."""
    task = get_task(task_name)
    X, y = task.sample(64, seed)
    seed_everything(seed)
    if family == "mlp":
        model = MLP(task.group.n, task.n_outputs, 16, depth=2)
    else:
        model = SharedMLP(task.group, task.n_outputs, 4, depth=2)
    history = fit(model, X, y, steps=20, lr=3e-3, batch_size=32, seed=seed,
                  augment_group=task.group if augment else None)
    losses = torch.tensor(history["loss"], dtype=torch.float64)
    return tensor_hash(losses, *(value for _, value in sorted(model.state_dict().items())))


def fingerprints() -> list[str]:
    """Hashes of every task's data and of the trained weights of two cases (a shared model, and an
    MLP trained with augmentation)."""
    data = [data_hash(name, 5) for name in ("set", "ring", "grid")]
    return data + [train_and_hash(*case) for case in CASES[1:3]]


def fingerprints_in_a_fresh_process() -> list[str]:
    """``fingerprints()`` computed by a new Python interpreter."""
    script = (f"import json, sys; sys.path.insert(0, {str(TESTS)!r}); import test_determinism; "
              "print(json.dumps(test_determinism.fingerprints()))")
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}  # a different hash seed changes nothing
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            env=environment, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("task_name", ["set", "ring", "grid"])
def test_same_seed_same_data(task_name):
    assert data_hash(task_name, 5) == data_hash(task_name, 5)
    assert data_hash(task_name, 5) != data_hash(task_name, 6)


@pytest.mark.parametrize(("task_name", "family", "augment"), CASES)
def test_same_seed_same_weights_in_process(task_name, family, augment):
    first = train_and_hash(task_name, family, augment)
    torch.manual_seed(999)  # global state in between must not matter: seed_everything resets it
    assert train_and_hash(task_name, family, augment) == first
    assert train_and_hash(task_name, family, augment, seed=4) != first


def test_same_seed_same_data_and_weights_in_a_fresh_process():
    here = fingerprints()
    assert len(set(here)) == len(here)  # every case differs: the comparison below has teeth
    assert fingerprints_in_a_fresh_process() == here
