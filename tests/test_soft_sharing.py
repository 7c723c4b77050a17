"""SoftSharedMLP (Finzi, Benton & Wilson 2021): tied path plus penalised residual, trained with its
penalty by fit and fit_many; the soft-shared family; the chapter's sweep table."""

import pandas as pd
import pytest
import torch

from symsharing.groups import cyclic, grid_dihedral
from symsharing.models import SharedMLP, SoftSharedMLP, l2_penalty
from symsharing.study import soft_sharing
from symsharing.study.families import FAMILIES, build_model, families_for, sharing_group
from symsharing.tasks import get_task
from symsharing.testing import assert_invariant
from symsharing.train import fit, fit_many, seed_everything


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_starts_as_the_shared_network(dtype):
    group = grid_dihedral(3)
    seed_everything(0)
    soft = SoftSharedMLP(group, 2, 4, residual_penalty=0.5).to(dtype)
    seed_everything(0)
    shared = SharedMLP(group, 2, 4).to(dtype)
    x = torch.randn(10, 9, dtype=dtype)
    assert torch.allclose(soft(x), shared(x))
    assert_invariant(soft, group, x)
    assert float(l2_penalty(soft).detach()) == 0.0


def test_penalty_is_the_declared_l2_sum():
    model = SoftSharedMLP(cyclic(5), 1, 3, residual_penalty=0.25)
    with torch.no_grad():
        for p in model.residuals:
            p.fill_(1.0)
        model.readout_residual.fill_(2.0)
    expected = 0.25 * (sum(p.numel() for p in model.residuals) + 4 * model.readout_residual.numel())
    assert float(l2_penalty(model)) == pytest.approx(expected)
    assert l2_penalty(SharedMLP(cyclic(5), 1, 3)) == 0.0
    with pytest.raises(ValueError, match="residual_penalty"):
        SoftSharedMLP(cyclic(5), 1, 3, residual_penalty=-1.0)


def test_fit_many_trains_with_the_penalty_like_fit():
    group = cyclic(8)
    X, y = torch.randn(40, 8), torch.randn(40, 1)
    seed_everything(0)
    alone = SoftSharedMLP(group, 1, 3, residual_penalty=0.1)
    seed_everything(0)
    stacked = [SoftSharedMLP(group, 1, 3, residual_penalty=0.1)]
    seed_everything(1)
    stacked.append(SoftSharedMLP(group, 1, 3, residual_penalty=0.1))
    fit(alone, X, y, steps=25, lr=1e-2, seed=0)
    fit_many(stacked, [(X, y)] * 2, steps=25, lr=1e-2, seeds=[0, 1])
    for a, b in zip(alone.parameters(), stacked[0].parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-5)
    # a strong penalty keeps the residuals smaller than a weak one
    norms = []
    for penalty in (0.0, 10.0):
        seed_everything(0)
        model = SoftSharedMLP(group, 1, 3, residual_penalty=penalty)
        fit(model, X, y, steps=50, lr=1e-2, seed=0)
        norms.append(float(sum(p.pow(2).sum() for p in model.residuals)))
    assert norms[1] < 0.1 * norms[0]


def test_soft_shared_family():
    assert "soft-shared" not in FAMILIES  # not one of the study's axes
    task = get_task("ring")
    model, group = build_model(task, "soft-shared", 4, residual_penalty=0.3)
    assert isinstance(model, SoftSharedMLP) and group is None and model.residual_penalty == 0.3
    assert sharing_group(task, "soft-shared") is task.group
    assert families_for(task, ("mlp", "soft-shared")) == ("mlp", "soft-shared")


def test_soft_sharing_table_picks_the_penalty_by_validation():
    rows = []
    for seed in range(3):
        for family, penalty, val, test in (("mlp", None, 0.5, 0.5), ("shared", None, 0.8, 0.8),
                                           ("soft-shared", 0.1, 0.6, 0.6), ("soft-shared", 1.0, 0.9, 0.79)):
            rows.append({"task": "t", "n_train": 64, "family": family, "penalty": penalty, "seed": seed,
                         "validation_score": val, "test_score": test + 0.001 * seed, "metric": "accuracy",
                         "diverged": False})
    table = soft_sharing.soft_sharing_table(pd.DataFrame(rows))
    row = table.iloc[0]
    assert row["penalty"] == 1.0 and row["better"] == "shared"
    assert row["advantage"] == pytest.approx(-0.01) and not row["tracks"]
