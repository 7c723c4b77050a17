"""The one place where run-wide switches are read: quick mode and the results cache folder."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["is_quick", "cache_dir"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def is_quick() -> bool:
    """True when ``SYMSHARING_QUICK`` is set to 1/true/yes: every sweep runs on a smaller grid."""
    return os.environ.get("SYMSHARING_QUICK", "").strip().lower() in {"1", "true", "yes", "on"}


def cache_dir() -> Path:
    """Results cache: ``$SYMSHARING_CACHE_DIR``, else ``.cache/symsharing`` in the project folder."""
    configured = os.environ.get("SYMSHARING_CACHE_DIR")
    return Path(configured) if configured else PROJECT_ROOT / ".cache" / "symsharing"
