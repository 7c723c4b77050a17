"""Where a chapter's numbers come from: the mode, seeds, code version, device and build date, and
every results CSV in one zip for the reproducing chapter.

Presentation only (it reads settings and the git checkout, computes nothing the cache keeps), so it
stays out of the code hash (``cache.PRESENTATION_MODULES``).
"""

from __future__ import annotations

import datetime
import subprocess
import zipfile
from pathlib import Path

from symsharing.engine.cache import code_hash
from symsharing.settings import PROJECT_ROOT, is_quick

__all__ = ["code_version", "provenance", "provenance_markdown", "RESULTS_DIR", "zip_results"]

RESULTS_DIR = PROJECT_ROOT / "results"


def code_version() -> str:
    """``git <short commit>`` (``+dirty`` when the package has uncommitted edits) when the package
    sits in a git checkout, else ``code <hash>`` of the package's files (``cache.code_hash``)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "symsharing"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"code {code_hash()}"
    return f"git {commit}{'+dirty' if dirty else ''}" if commit else f"code {code_hash()}"


def _device() -> str:
    from symsharing.settings import device  # the device the records are trained on

    return device()


def provenance(seeds=None) -> dict:
    """The facts a results chapter states: mode, seeds, code version, code hash, device, date."""
    if seeds is not None and not isinstance(seeds, (int, list, tuple, range)):
        raise TypeError(f"seeds must be a count or a list of seeds, got {type(seeds).__name__}")
    count = seeds if isinstance(seeds, int) or seeds is None else len(seeds)
    return {"mode": "quick" if is_quick() else "full", "seeds": count, "code": code_version(),
            "code_hash": code_hash(), "device": _device(),
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")}


def provenance_markdown(seeds=None) -> str:
    """One line of Markdown for the top of a results chapter."""
    facts = provenance(seeds)
    seeds_text = "" if facts["seeds"] is None else f" · **seeds** {facts['seeds']}"
    return (f"**Run:** {facts['mode']} sweeps{seeds_text} · **code** `{facts['code']}` "
            f"(hash `{facts['code_hash']}`) · **device** {facts['device']} · **built** {facts['date']}")


def zip_results(out: Path | str, folder: Path | str = RESULTS_DIR) -> Path:
    """Every ``*.csv`` under ``folder`` in one zip at ``out`` (made anew); ValueError if there are none."""
    folder, out = Path(folder), Path(out)
    files = sorted(path for path in folder.rglob("*.csv") if path.is_file())
    if not files:
        raise ValueError(f"no results CSV under {str(folder)!r}: run the book's chapters first")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(folder).as_posix())
    return out
