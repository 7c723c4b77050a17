"""paramspace.two_layer: Zhao et al. (2023)'s two-layer set-up, re-implemented."""

import numpy as np
import pytest
import torch

from symsharing.paramspace.two_layer import (
    ACTIVATIONS,
    conserved_q,
    initial_weights,
    train_two_layer,
    two_layer_hessian_eigenvalues,
)

SIGMA = {"linear": lambda z: z, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def test_initial_weights_are_drawn_as_in_the_paper():
    torch.manual_seed(12345)
    U = torch.rand(5, 50).normal_(mean=0, std=0.1)
    torch.manual_seed(12345)
    Y = torch.rand(5, 10).normal_(mean=0, std=1)
    mine_U, _, mine_Y = initial_weights(5, 10, 50, 0.1)
    np.testing.assert_allclose(mine_U, U.double().numpy())
    np.testing.assert_allclose(mine_Y, Y.double().numpy())


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_closed_form_steps_equal_torch_sgd_on_the_papers_model(activation):
    U0, V0, Y = (torch.as_tensor(a) for a in initial_weights(4, 3, 6, 0.5))
    U, V = U0.clone().requires_grad_(True), V0.clone().requires_grad_(True)
    optimizer = torch.optim.SGD([U, V], lr=0.05)
    for _ in range(3):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(U @ SIGMA[activation](V.T @ torch.eye(3, dtype=U.dtype)), Y).backward()
        optimizer.step()
    run = train_two_layer(activation, [0.5], m=4, n=3, k=6, lr=0.05, steps=3)
    np.testing.assert_allclose(run["U"][0], U.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(run["V"][0], V.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert run["loss"].shape == (1, 4)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_q_is_nearly_conserved_at_a_small_rate(activation):
    run = train_two_layer(activation, [0.3], m=4, n=3, k=6, lr=1e-3, steps=500)
    assert abs(run["q"][0, -1] - run["q"][0, 0]) < 1e-3 * max(1.0, abs(run["q"][0, 0]))
    assert run["loss"][0, -1] < run["loss"][0, 0]


def test_conserved_q_formulas():
    U, V = np.ones((2, 3)), np.zeros((4, 3))
    assert conserved_q(U, V, "linear") == 6.0
    assert conserved_q(U, -np.ones((4, 3)), "relu") == 6.0
    assert conserved_q(U, V, "tanh") == 6.0 - 12.0
    assert conserved_q(U, V, "sigmoid") == 3.0 - 12.0


def test_hessian_of_the_zero_loss_minimum_has_rank_at_most_the_outputs():
    U, V, _ = initial_weights(3, 2, 5, 0.7)
    Y = U @ np.tanh(V.T)  # fitted exactly
    eigenvalues = two_layer_hessian_eigenvalues(U, V, Y, "tanh")
    assert eigenvalues.shape == (25,) and (np.abs(eigenvalues) > 1e-10 * np.abs(eigenvalues).max()).sum() <= 6


def test_bad_inputs():
    with pytest.raises(ValueError, match="activation must be one of"):
        conserved_q(np.ones((2, 2)), np.ones((2, 2)), "gelu")
    with pytest.raises(ValueError, match="scale must be a positive number"):
        initial_weights(2, 2, 2, 0.0)
