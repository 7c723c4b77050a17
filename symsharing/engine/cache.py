"""On-disk results cache: one JSON file per unit of work, keyed by what determines its result.

The key is a SHA-256 of the unit's configuration, the device, the dtype and ``code_hash()`` (a hash
of every ``symsharing/**/*.py`` file that computes results), so a chapter executed twice computes
once and any change to the package recomputes. Each file holds ``{"checksum", "key", "payload"}``;
the checksum is the SHA-256 of the canonical JSON of the payload. Writes go to a temporary file in
the same folder, then
``os.replace`` (atomic on POSIX): a killed process leaves either the old entry or the new one, never
half a file. A corrupt, truncated or mismatched entry is reported with ``warnings.warn`` and
recomputed. Entries are plain JSON: nothing is unpickled or evaluated.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from symsharing.settings import cache_dir, compile_stacks

__all__ = ["code_hash", "cache_key", "entry_path", "load_entry", "store_entry", "cached", "cached_calls",
           "CacheCorruptionWarning"]

PACKAGE_DIR = Path(__file__).resolve().parent.parent


class CacheCorruptionWarning(UserWarning):
    """A cache entry could not be read back intact; it is recomputed."""


# Modules that only present results (figures, widgets, the command line, the benchmark): editing
# them cannot change a number, so they stay out of the key and do not invalidate the cache.
PRESENTATION_MODULES = frozenset({"__main__.py", "bench", "registry.py", "figures"})


def code_hash(package_dir: Path | None = None) -> str:
    """SHA-256 (first 16 hex digits) over the names and bytes of the package's ``*.py`` files that
    compute results (all but ``PRESENTATION_MODULES``).

    Without ``package_dir``: the installed package, hashed once per process, so that every entry a
    process writes is keyed by the code it imported (an edit made meanwhile does not split a run).
    """
    if package_dir is None:
        return _imported_code_hash()
    return _hash_folder(Path(package_dir))


@functools.lru_cache(maxsize=1)
def _imported_code_hash() -> str:
    return _hash_folder(PACKAGE_DIR)


def _hash_folder(package_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir)
        if relative.parts[0] in PRESENTATION_MODULES:
            continue
        digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True).encode()


def cache_key(config: dict, *, device: str, dtype: str, code: str | None = None) -> dict:
    """The full key of a unit: its configuration plus device, dtype and code hash (a JSON dict),
    and ``"compiled": True`` while stacks are compiled (``settings.compile_stacks()``: their
    results differ from the eager default by float rounding)."""
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict of JSON values, got {type(config).__name__}")
    key = {"config": config, "device": str(device), "dtype": str(dtype),
           "code_hash": code if code is not None else code_hash()}
    if compile_stacks():
        key["compiled"] = True
    return key


def entry_path(key: dict, namespace: str = "units") -> Path:
    """Where the entry of ``key`` lives: ``cache_dir()/namespace/<sha256 of the key>.json``."""
    return cache_dir() / namespace / f"{hashlib.sha256(_canonical(key)).hexdigest()[:32]}.json"


def store_entry(path: Path, key: dict, payload) -> None:
    """Write ``payload`` atomically (temporary file + ``os.replace``) with its checksum."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"checksum": hashlib.sha256(_canonical(payload)).hexdigest(), "key": key, "payload": payload}
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(_canonical(body))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_entry(path: Path, key: dict):
    """The payload stored at ``path`` for ``key``; None when absent or unusable (with a warning)."""
    if not path.exists():
        return None
    try:
        body = json.loads(path.read_bytes())
        payload, checksum = body["payload"], body["checksum"]
        intact = hashlib.sha256(_canonical(payload)).hexdigest() == checksum
        matches = body["key"] == json.loads(_canonical(key))
    except (ValueError, KeyError, TypeError) as error:
        warnings.warn(f"cache entry {path} is corrupt ({type(error).__name__}: {error}); recomputing",
                      CacheCorruptionWarning, stacklevel=3)
        return None
    if not intact:
        warnings.warn(f"cache entry {path} fails its checksum; recomputing", CacheCorruptionWarning,
                      stacklevel=3)
        return None
    if not matches:
        warnings.warn(f"cache entry {path} holds another key; recomputing", CacheCorruptionWarning,
                      stacklevel=3)
        return None
    return payload


def cached(key: dict, compute: Callable[[], object], namespace: str = "units"):
    """``compute()``'s JSON payload for ``key``, from the cache when an intact entry exists."""
    path = entry_path(key, namespace)
    payload = load_entry(path, key)
    if payload is None:
        payload = compute()
        store_entry(path, key, payload)
    return payload


def cached_calls(entries, namespace: str = "units") -> list:
    """The payload of each ``(key, function, arguments)`` of ``entries``: read back where an intact
    entry exists; the missing ones computed as ``function(*arguments)`` in the worker pool
    (``parallel.run_calls``: ``function`` importable at module level, arguments picklable), each
    stored as soon as it finishes."""
    from symsharing.engine.pool import run_calls  # late: parallel imports torch

    entries = list(entries)
    payloads = [load_entry(entry_path(key, namespace), key) for key, _, _ in entries]
    missing = [k for k, payload in enumerate(payloads) if payload is None]
    if missing:
        for index, payload in run_calls(_apply, [entries[k][1:] for k in missing]):
            key = entries[missing[index]][0]
            store_entry(entry_path(key, namespace), key, payload)
            payloads[missing[index]] = payload
    return payloads


def _apply(function, arguments):
    return function(*arguments)
