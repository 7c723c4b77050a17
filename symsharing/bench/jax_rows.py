"""The bench's JAX rows: the same workloads in JAX, for ``engine/jax``.

Each row trains the very models the engine trains (the same torch initialisation, stacked over
the K models, and the same data) with one ``jax.jit``-compiled function running every step in a
``jax.lax.fori_loop``, each step ``jax.vmap`` over the models of ``jax.grad`` of the per-model
loss, then ``optax.adam(1e-3)``; float32, default threads, compile time measured apart. The tied
row computes each model as the engine does (``stacks.shared_mlp_forward``): it gathers every
layer's dense tied matrix from the orbit weights (``theta[..., pair_orbits]``) and multiplies.
The final losses printed beside the timings show that both trained the same models.

JAX (``pip install "jax[cpu]==0.10.2" optax``) is not a dependency of the book: without it the
rows are skipped (``time_jax`` returns None).
"""

from __future__ import annotations

import time

import torch

from symsharing.models import MLP

__all__ = ["time_jax"]


def _mlp_problem(models, jnp):
    """Per layer ``(weights [K, in, out], biases [K, out])`` and the one-model MSE."""
    params = [(jnp.asarray(torch.stack([m.layers[i].weight.detach().T for m in models]).numpy()),
               jnp.asarray(torch.stack([m.layers[i].bias.detach() for m in models]).numpy()))
              for i in range(len(models[0].layers))]

    def loss(layers, x, target, jax):
        h = x
        for weight, bias in layers[:-1]:
            h = jax.nn.relu(h @ weight + bias)
        weight, bias = layers[-1]
        return jnp.mean((h @ weight + bias - target) ** 2)

    return params, loss


def _tied_problem(models, jnp):
    """The stacked orbit weights by name and the one-model cross-entropy, the tied matrices gathered
    as ``stacks.shared_mlp_forward`` gathers them."""
    named = [dict(m.named_parameters()) for m in models]
    params = {name: jnp.asarray(torch.stack([p[name].detach() for p in named]).numpy()) for name in named[0]}
    hidden = [(f"layers.{i}.", layer.in_channels, layer.out_channels,
               jnp.asarray(layer.pair_orbits.flatten().numpy()), jnp.asarray(layer.point_orbits.numpy()),
               layer.bias is not None) for i, layer in enumerate(models[0].layers)]
    pooling = jnp.asarray(models[0].readout.pooling.numpy())  # (n, n_orbits)

    def loss(p, x, labels, jax):
        b, n = x.shape
        h = x  # (b, c * n), channel-major
        for prefix, c_in, c_out, pairs, points, has_bias in hidden:
            dense = p[prefix + "weight"][..., pairs].reshape(c_out, c_in, n, n)
            h = h @ dense.transpose(1, 3, 0, 2).reshape(c_in * n, c_out * n)
            if has_bias:
                h = h + p[prefix + "bias"][..., points].reshape(c_out * n)
            h = jax.nn.relu(h)
        pooled = (h.reshape(b, -1, n) @ pooling).reshape(b, -1)  # (b, c * n_orbits)
        logits = pooled @ p["readout.linear.weight"].T + p["readout.linear.bias"]
        picked = jnp.take_along_axis(logits, labels[:, None], -1)[:, 0]
        return jnp.mean(jax.nn.logsumexp(logits, axis=-1) - picked)

    return params, loss


def time_jax(models, data, steps: int) -> tuple[float, float, float] | None:
    """``(seconds, compile seconds, final loss)`` for training ``models`` (exact MLPs or SharedMLPs,
    left untouched) on ``data`` for ``steps`` Adam steps in JAX, or None when ``jax`` or ``optax``
    cannot be imported."""
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError:
        return None
    params, one_loss = (_mlp_problem if isinstance(models[0], MLP) else _tied_problem)(models, jnp)
    X = jnp.asarray(torch.stack([x for x, _ in data]).numpy())  # [K, n, features]
    y = jnp.asarray(torch.stack([t for _, t in data]).numpy())  # [K, n, 1] or [K, n] labels
    optimizer = optax.adam(1e-3)

    def loss(p, x, target):
        return one_loss(p, x, target, jax)

    gradients = jax.vmap(jax.grad(loss))

    def train(p, x, target):
        def step(_, state):
            p, opt_state = state
            updates, opt_state = optimizer.update(gradients(p, x, target), opt_state, p)
            return optax.apply_updates(p, updates), opt_state

        return jax.lax.fori_loop(0, steps, step, (p, optimizer.init(p)))

    start = time.perf_counter()
    compiled = jax.jit(train).lower(params, X, y).compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    trained, _ = jax.block_until_ready(compiled(params, X, y))
    seconds = time.perf_counter() - start
    return seconds, compile_seconds, float(jnp.mean(jax.vmap(loss)(trained, X, y)))
