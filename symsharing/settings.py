"""The one place where run-wide switches are read: quick mode, the results cache folder, the
training device and compiled stacks."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["is_quick", "cache_dir", "device", "compile_stacks", "DEVICES"]

DEVICES = ("cpu", "cuda")

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def is_quick() -> bool:
    """True when ``SYMSHARING_QUICK`` is set to 1/true/yes: every sweep runs on a smaller grid."""
    return os.environ.get("SYMSHARING_QUICK", "").strip().lower() in {"1", "true", "yes", "on"}


def compile_stacks() -> bool:
    """True when ``SYMSHARING_COMPILE`` is set to 1/true/yes: ``fit_many`` compiles its stacks
    (``symsharing.engine.compiled``; results differ from the eager default by float rounding, so
    cache keys carry the switch). Off by default: see docs/performance.md for when it pays."""
    return os.environ.get("SYMSHARING_COMPILE", "").strip().lower() in {"1", "true", "yes", "on"}


def cache_dir() -> Path:
    """Results cache: ``$SYMSHARING_CACHE_DIR``, else ``.cache/symsharing`` in the project folder."""
    configured = os.environ.get("SYMSHARING_CACHE_DIR")
    return Path(configured) if configured else PROJECT_ROOT / ".cache" / "symsharing"


def device(requested: str | None = None) -> str:
    """Training device: ``requested``, else ``$SYMSHARING_DEVICE``, else ``"cpu"`` (the book's
    default, so published numbers do not depend on the reader's machine).

    ``"cuda"`` sets ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` (what cuBLAS needs for bit-identical reruns)
    before the first CUDA call and asks torch for deterministic algorithms; it raises a ValueError
    when no CUDA device is available. See docs/performance.md.
    """
    name = requested if requested is not None else os.environ.get("SYMSHARING_DEVICE", "cpu")
    name = str(name).strip().lower() or "cpu"
    if name not in DEVICES:
        raise ValueError(f"device must be one of {list(DEVICES)}, got {name!r}")
    if name == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        import torch  # late: settings is read before anything heavy is imported

        if not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for (--device or SYMSHARING_DEVICE) but torch "
                             "sees no CUDA device; use 'cpu'")
        torch.use_deterministic_algorithms(True)
    return name
