"""The experiments of the chapter "How symmetry shapes training" (``book/dynamics.py``): conserved
balances along training, Zhao et al. (2023)'s two-layer runs, networks on one orbit trained from
different balances, Hessian null spaces at minima, and sharpness along the rescaling orbit.

Every function takes the chapter's configuration (``chapter_config``) and returns JSON-ready
payloads, computed in the worker pool and cached by configuration and code
(``engine.cache.cached_calls``). The teleportation experiments are in ``teleport_study``.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from symsharing.engine.cache import cache_key, cached_calls
from symsharing.groups import symmetric
from symsharing.models import MLP, SharedMLP, SigmaAsymmetricMLP, WAsymmetricMLP
from symsharing.paramspace.balance import balance_trajectory, neuron_balance
from symsharing.paramspace.hessian import (
    hessian_eigenvalues,
    null_space_size,
    rescaling_generators,
    symmetry_identities,
    zero_loss_minimum,
)
from symsharing.paramspace.permutation_spec import rescale_hidden
from symsharing.paramspace.sharpness import hessian_trace, top_hessian_eigenvalue
from symsharing.paramspace.two_layer import (
    ACTIVATIONS,
    initial_weights,
    train_two_layer,
    two_layer_hessian_eigenvalues,
)
from symsharing.settings import is_quick
from symsharing.tasks import get_task
from symsharing.train import fit, fit_many, one_thread

__all__ = ["chapter_config", "BALANCE_ARMS", "CONVERGENCE_PROTOCOL", "RESIDUAL_TARGET", "balance_runs",
           "two_layer_runs", "orbit_training_runs",
           "null_space_runs", "sharpness_runs", "centred", "NULL_RTOL"]

# Q_convergence_elementwise.py's rate and steps
CONVERGENCE_PROTOCOL = {"lr": 1e-3, "steps": 400_000, "sigmoid_steps": 800_000}
RESIDUAL_TARGET = 1e-2  # "converged": ‖Y − U σ(Vᵀ)‖ below this
NULL_RTOL = 1e-12  # |λ| <= NULL_RTOL · max|λ| counts as zero (rounding leaves ~1e-17 in float64)
BALANCE_ARMS = {  # name: (optimizer, weight decay, batch size); the rate is the config's
    "GD": ("gd", 0.0, None), "GD + L2": ("gd", "weight_decay", None), "SGD": ("sgd", 0.0, "batch_size"),
    "momentum": ("momentum", 0.0, None), "Adam": ("adam", 0.0, None),
}


def chapter_config(quick: bool | None = None) -> dict:
    """The chapter's set-up; the quick build shortens runs and uses fewer seeds."""
    quick = is_quick() if quick is None else bool(quick)
    return {
        "task": "set", "n_train": 256, "width": 16, "depth": 2,
        "balance_steps": 200 if quick else 1000, "balance_lr": 0.05, "adam_lr": 1e-3,
        "weight_decay": 0.01, "batch_size": 32,
        "hessian_steps": (1000, 2000) if quick else (4000, 8000),  # Zhao et al.: 4,000; 8,000 for sigmoid
        "convergence_cut": 40 if quick else 4,  # Zhao et al. run 400,000 (sigmoid 800,000) steps of 1e-3
        "seeds": 3 if quick else 12, "orbit_factors": (0.25, 1.0, 4.0), "orbit_width": 32,
        "orbit_lr": 0.02, "orbit_steps": 300 if quick else 1000, "orbit_target": 0.2,
        "null_n": 1000, "sharpness_factors": tuple(float(f) for f in np.logspace(-2, 2, 5 if quick else 9)),
        "sharpness_seeds": 1 if quick else 4, "sharpness_steps": 300 if quick else 1000,
    }


def _run(namespace: str, units) -> list:
    with one_thread():
        return cached_calls([(cache_key({"unit": name, **args}, device="cpu", dtype="float64"), function,
                              (args,)) for name, function, args in units], namespace=namespace)


def _data(config: dict, dtype=torch.float64):
    X, y = get_task(config["task"]).sample(config["n_train"], 0)
    return X.to(dtype), y.to(dtype)


# --- conserved balances -----------------------------------------------------------------------------


def _balance_arm(args: dict) -> dict:
    X, y = _data(args)
    torch.manual_seed(0)
    linear = args["arm"] == "deep linear"
    if args["arm"] == "SharedMLP":  # one balance per channel
        model = SharedMLP(get_task(args["task"]).group, 1, args["width"] // 4, args["depth"]).double()
    else:
        model = MLP(X.shape[1], 1, args["width"], args["depth"] + linear,
                    activation="identity" if linear else "relu").double()
    optimizer, decay, batch = BALANCE_ARMS.get(args["arm"], ("gd", 0.0, None))
    decay = args[decay] if isinstance(decay, str) else decay
    batch = args[batch] if isinstance(batch, str) else batch
    lr = args["adam_lr"] if optimizer == "adam" else args["balance_lr"]
    run = balance_trajectory(model, X, y, steps=args["balance_steps"], lr=lr, optimizer=optimizer,
                             weight_decay=decay, batch_size=batch, matrix=linear)
    measured = run["measured"]  # (steps + 1, units)
    scale = float(np.abs(measured[0]).max())
    every = max(1, len(measured) // 200)
    payload = {"arm": args["arm"], "optimizer": optimizer, "lr": lr, "weight_decay": decay,
               "batch_size": batch, "scale": scale, "drift": float(np.abs(measured - measured[0]).max()),
               "step_change": float(np.abs(np.diff(measured, axis=0)).max()),
               "step": list(range(0, len(measured), every)),
               "mean_abs_drift": np.abs(measured - measured[0]).mean(1)[::every].tolist(),
               "loss": run["loss"][::every].tolist()}
    if run["predicted"] is not None:
        payload["prediction_error"] = float(np.abs(run["predicted"] - measured[1:]).max())
    if decay:  # gradient-flow limit: Q(t) ≈ Q(0) exp(-2 λ t), t = lr * step
        steps = np.arange(len(measured))[:, None]
        flow = measured[0] * np.exp(-2 * decay * lr * steps)
        payload["flow_error"] = float(np.abs(measured - flow).max())
        payload["decay_ratio"] = float(np.median(measured[-1] / measured[0]))
        payload["flow_ratio"] = float(np.exp(-2 * decay * lr * (len(measured) - 1)))
    return payload


def balance_runs(config: dict) -> list[dict]:
    """One payload per arm of ``BALANCE_ARMS`` (an MLP), a ``SharedMLP`` (per channel) and a deep
    linear network (its whole matrix) under GD:
    largest drift of the balance from its start, largest one-step change, largest gap between the
    measured balance and the exact one-step prediction (GD and SGD), and with the penalty the gap to
    the gradient-flow curve ``Q(0) exp(−2λt)``."""
    keys = ("task", "n_train", "width", "depth", "balance_steps", "balance_lr", "adam_lr", "weight_decay",
            "batch_size")
    base = {key: config[key] for key in keys}
    return _run("dynamics-balance", [("balance", _balance_arm, {**base, "arm": arm})
                                     for arm in (*BALANCE_ARMS, "SharedMLP", "deep linear")])


# --- Zhao et al. (2023): two-layer networks ---------------------------------------------------------


def _two_layer_unit(args: dict) -> dict:
    activation = args["activation"]
    if args["kind"] == "hessian":  # Q_hessian_eigenvalues.py: U 10x50, V 5x50, rate 0.1
        scales, (m, n, k), lr = (0.001, 0.3, 0.6, 0.9), (10, 5, 50), 0.1
        steps = args["hessian_steps"][activation == "sigmoid"]
    else:  # Q_convergence_elementwise.py: U 5x50, V 10x50, the protocol's rate and steps
        scales, (m, n, k), protocol = (0.01, 0.1, 1.0), (5, 10, 50), CONVERGENCE_PROTOCOL
        lr = protocol["lr"] * args["convergence_cut"]
        steps = protocol["sigmoid_steps" if activation == "sigmoid" else "steps"] // args["convergence_cut"]
    run = train_two_layer(activation, scales, m=m, n=n, k=k, lr=lr, steps=steps,
                          record_every=max(1, steps // (100 if args["kind"] == "hessian" else 200)))
    payload = {"activation": activation, "kind": args["kind"], "scales": list(scales), "steps": steps,
               "lr": lr,
               "squared_norm": [max(float(sum((w ** 2).sum() for w in initial_weights(m, n, k, scale)[:2])),
                                    float((run["U"][i] ** 2).sum() + (run["V"][i] ** 2).sum()))
                                for i, scale in enumerate(scales)],  # the larger of start and end
               "step": run["step"].tolist(), "loss": run["loss"].tolist(), "q": run["q"].tolist()}
    if args["kind"] == "hessian":
        payload["eigenvalues"] = [
            two_layer_hessian_eigenvalues(run["U"][i], run["V"][i], run["Y"], activation).tolist()
            for i in range(len(scales))]
    return payload


def two_layer_runs(config: dict) -> list[dict]:
    """Zhao et al.'s two experiments for each activation: ``kind`` ``"hessian"`` (spectra at the
    end) and ``"convergence"`` (``convergence_cut`` times fewer steps of a ``convergence_cut``
    times larger rate: the same gradient-flow time)."""
    base = {"hessian_steps": list(config["hessian_steps"]), "convergence_cut": config["convergence_cut"]}
    return _run("dynamics-two-layer", [("two-layer", _two_layer_unit, {**base, "kind": kind, "activation": a})
                                       for kind in ("hessian", "convergence") for a in ACTIVATIONS])


# --- one orbit, different balances ------------------------------------------------------------------


def _orbit_unit(args: dict) -> list[dict]:
    X, y = _data(args, torch.float32)
    factors, width = args["orbit_factors"], args["orbit_width"]
    models, balances = [], []
    for seed in range(args["seeds"]):
        torch.manual_seed(seed)
        base = MLP(X.shape[1], 1, width, args["depth"])
        for factor in factors:  # the first hidden layer's units scaled by the factor: same function
            scales = [torch.full((width,), factor)] + [torch.ones(width)] * (args["depth"] - 1)
            model = rescale_hidden(base, scales)
            models.append(model)
            balances.append(float(neuron_balance(model)[0].mean()))
    histories = fit_many(models, [(X, y)] * len(models), steps=args["orbit_steps"], lr=args["orbit_lr"],
                         optimizer="gd", workers=1)
    records = []
    for index, (model, history) in enumerate(zip(models, histories, strict=True)):
        loss = np.asarray(history["loss"])
        reached = np.flatnonzero(loss <= args["orbit_target"])
        wide = model.double()
        records.append({
            "seed": index // len(factors), "factor": factors[index % len(factors)],
            "balance": balances[index],
            "diverged": history["diverged"], "final_loss": float(loss[-1]),
            "steps_to_target": int(reached[0]) + 1 if len(reached) else None,
            "sharpness": top_hessian_eigenvalue(wide, X.double(), y.double()),
            "adaptive_sharpness": top_hessian_eigenvalue(wide, X.double(), y.double(), adaptive=True),
            "loss_every": max(1, len(loss) // 100), "loss": loss[:: max(1, len(loss) // 100)].tolist()})
    return records


def orbit_training_runs(config: dict) -> list[dict]:
    """Networks that differ only by a rescaling of one initialisation (the first hidden layer's
    units by each of ``orbit_factors``: the same function, different balances), trained by full-
    batch GD; one record per (seed, factor): steps to ``orbit_target``, final loss and sharpness
    (plain and adaptive), the mean first-layer balance at the start."""
    keys = ("task", "n_train", "depth", "seeds", "orbit_factors", "orbit_width", "orbit_lr", "orbit_steps",
            "orbit_target")
    args = {key: (list(config[key]) if isinstance(config[key], tuple) else config[key]) for key in keys}
    return _run("dynamics-orbit", [("orbit", _orbit_unit, args)])[0]


# --- Hessian null spaces at minima ------------------------------------------------------------------


@torch.no_grad()
def centred(model, X: torch.Tensor):
    """A copy of ``model`` whose hidden biases put the median pre-activation of every unit (per
    channel and point orbit for a ``SharedMLP``) on ``X`` at zero: no unit dead or always on."""
    model = copy.deepcopy(model)
    if isinstance(model, SharedMLP):
        hidden = X[:, None, :]  # (batch, 1, n)
        for layer in model.layers:
            pre = layer(hidden)  # (batch, channels, n)
            for orbit in range(layer.bias.shape[1]):
                points = pre[:, :, layer.point_orbits == orbit].transpose(0, 1).reshape(pre.shape[1], -1)
                layer.bias[:, orbit] -= points.median(dim=1).values
            hidden = torch.relu(layer(hidden))
        return model
    hidden = X
    for index in range(model.depth):
        layer = model.layers[index]
        layer.bias -= layer(hidden).median(dim=0).values
        hidden = model.hidden_activation(layer(hidden), index)
    return model


FAMILIES = {
    "MLP": lambda n, width: MLP(n, 2, width, 2),
    "SharedMLP": lambda n, width: SharedMLP(symmetric(n), 2, 3, 2),
    "W-Asym": lambda n, width: WAsymmetricMLP(n, 2, width, 2, n_fixed=2, fixed_std=1.0, seed=0),
    "σ-Asym": lambda n, width: SigmaAsymmetricMLP(n, 2, width, 2, seed=0),
}


def _null_unit(args: dict) -> dict:
    X = get_task(args["task"]).sample(args["null_n"], 0)[0].double()  # (n, 8)
    torch.manual_seed(1)
    teacher = centred(FAMILIES[args["family"]](X.shape[1], 6).double(), X)
    with torch.no_grad():
        y = teacher(X)  # (n, 2): the teacher's outputs, fitted exactly at the minimum
        student = copy.deepcopy(teacher)
        for p in student.parameters():
            p.add_(0.01 * torch.randn_like(p))
        for module in student.modules():
            if hasattr(module, "restore_fixed_entries"):
                module.restore_fixed_entries()
    minimum, gradient = zero_loss_minimum(student, X, y, steps=40)
    eigenvalues = hessian_eigenvalues(minimum, X, y)
    random_labels = torch.randint(0, 2, (len(X),), generator=torch.Generator().manual_seed(2))
    trained = copy.deepcopy(teacher)
    fit(trained, X, y + 0.3 * torch.randn(y.shape, generator=torch.Generator().manual_seed(3), dtype=y.dtype),
        steps=200, lr=1e-2)  # a trained, non-critical point: the identities hold anyway
    last_hidden = teacher.channels if isinstance(teacher, SharedMLP) else teacher.width
    return {"family": args["family"], "parameters": len(eigenvalues), "constraints": int(y.numel()),
            "last_hidden": last_hidden,
            "generators": len(rescaling_generators(minimum)), "gradient_norm": gradient,
            "null": null_space_size(eigenvalues, NULL_RTOL),
            "cross_entropy_null": null_space_size(hessian_eigenvalues(teacher, X, random_labels), NULL_RTOL),
            "relative_eigenvalues": (eigenvalues.abs().sort().values / eigenvalues.abs().max()).tolist(),
            "identities_random": symmetry_identities(teacher, X, y + 0.5),
            "identities_trained": symmetry_identities(trained, X, y)}


def null_space_runs(config: dict) -> list[dict]:
    """For each family of ``FAMILIES`` (two outputs, two hidden layers): a teacher with centred
    units labels ``null_n`` inputs of the task; a student started near it is moved to a zero-loss
    minimum; the Hessian's near-zero eigenvalues there against the rescaling generators; the
    cross-entropy Hessian's at random labels; the two identities at a random and a trained θ."""
    base = {"task": config["task"], "null_n": config["null_n"]}
    return _run("dynamics-null", [("null", _null_unit, {**base, "family": family}) for family in FAMILIES])


# --- sharpness along the orbit ----------------------------------------------------------------------


def _sharpness_unit(args: dict) -> list[dict]:
    X, y = _data(args)
    torch.manual_seed(args["seed"])
    model = MLP(X.shape[1], 1, args["width"], args["depth"]).double()
    fit(model, X, y, steps=args["sharpness_steps"], lr=1e-2, seed=args["seed"])
    rows = []
    with torch.no_grad():
        reference = model(X)
    for factor in args["sharpness_factors"]:
        moved = rescale_hidden(model, [torch.full((args["width"],), factor)] + [torch.ones(args["width"])] *
                               (args["depth"] - 1))
        with torch.no_grad():
            change = float((moved(X) - reference).abs().max() / reference.abs().max())
        rows.append({"seed": args["seed"], "factor": factor, "output_change": change,
                     "top": top_hessian_eigenvalue(moved, X, y, iterations=500),
                     "trace": hessian_trace(moved, X, y),
                     "adaptive_top": top_hessian_eigenvalue(moved, X, y, adaptive=True, iterations=500),
                     "adaptive_trace": hessian_trace(moved, X, y, adaptive=True)})
    return rows


def sharpness_runs(config: dict) -> list[dict]:
    """Trained MLPs (Adam, float64) moved along their orbit (first hidden layer's units scaled by
    each of ``sharpness_factors``): output change, top Hessian eigenvalue and trace, plain and
    adaptive. One row per (seed, factor)."""
    keys = ("task", "n_train", "width", "depth", "sharpness_steps")
    base = {key: config[key] for key in keys} | {"sharpness_factors": list(config["sharpness_factors"])}
    units = [("sharpness", _sharpness_unit, {**base, "seed": seed})
             for seed in range(config["sharpness_seeds"])]
    return [row for rows in _run("dynamics-sharpness", units) for row in rows]
