"""The book's scripts from other projects (MathJax, the ipywidgets HTML manager) are served from its
own ``_static``, so every page renders its math and widgets with no network.

By default Sphinx loads MathJax, and myst-nb loads the widget manager, from CDNs: offline a reader
sees raw ``\\(C_8\\)`` and blank explorers. Here each is pinned to an npm release whose tarball is
checked against a pinned SHA-512 before a file of it is used:

- ``python3 _ext/offline_assets.py`` (run by ``make install``) fetches the tarballs with ``npm pack``
  (the npm registry, npm's own client) and unpacks the files the pages load into
  ``_assets/vendor/`` (ignored by git: nothing third-party is committed);
- as a Sphinx extension it checks, before anything is built, that those files are there and that
  ``mathjax_path`` and ``nb_ipywidgets_js`` (``_config.yml``) name files in ``_assets``, so a build
  never falls back to a CDN in silence, and serves ``_assets`` as the book's ``_static`` (see
  ``ASSETS`` for why not from ``_static`` itself).

The widget manager is ``embed.js`` of ``@jupyter-widgets/html-manager``, the build that carries the
base, controls and output widgets (all the book's explorers use) and needs no RequireJS; the
``embed-amd.js`` that myst-nb defaults to would fetch RequireJS and any widget module from a CDN.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Served as _static/ of the built book, but not from the _static folder: jupyter-book adds every
# .js and .css file it finds under _static (recursively) to every page, which would load MathJax's
# 70 scripts everywhere. This extension adds ASSETS to html_static_path itself, after jupyter-book
# has made its list, so only what the pages ask for is loaded.
ASSETS = ROOT / "_assets"
VENDOR = ASSETS / "vendor"
COMPLETE = VENDOR / ".complete"  # names the pinned releases once every file is unpacked


@dataclass(frozen=True)
class Release:
    """One npm release: the files of its tarball the book serves, and where they go."""

    spec: str  # name@version, exact
    sha512: str  # the registry's integrity string ("sha512-<base64>")
    source: str  # folder inside the tarball
    suffixes: tuple[str, ...]  # files kept (by name ending), searched below ``source``
    target: str  # folder under _assets/vendor


RELEASES = (
    # the whole es5 tree: the entry script loads fonts and TeX extensions from it on demand
    Release("mathjax@3.2.2",
            "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
            "package/es5", (".js", ".woff", ".json"), "mathjax"),
    # embed.js and the icon fonts it names relative to its own address
    Release("@jupyter-widgets/html-manager@1.0.15",
            "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
            "package/dist", ("embed.js", "embed.js.LICENSE.txt", ".woff2", ".woff", ".ttf", ".eot",
                             ".svg"), "html-manager"),
)
LICENSES = {"mathjax": "package/LICENSE"}  # kept beside the files it covers


def _stamp() -> str:
    return "\n".join(f"{release.spec} {release.sha512}" for release in RELEASES) + "\n"


def is_complete() -> bool:
    return COMPLETE.is_file() and COMPLETE.read_text() == _stamp()


def _npm_pack(spec: str, folder: Path) -> Path:
    """Download the release's tarball with npm's own client; nothing is installed or run."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed: the book's MathJax and widget scripts come from the "
                           "npm registry (Debian: apt-get install npm)")
    done = subprocess.run([npm, "pack", spec, "--json", "--ignore-scripts", "--silent",
                           f"--pack-destination={folder}"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"npm pack {spec} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return folder / json.loads(done.stdout)[0]["filename"]


def _check(tarball: Path, release: Release) -> None:
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != release.sha512:
        raise RuntimeError(f"{release.spec}: the tarball's SHA-512 is {digest}, expected the pinned "
                           f"{release.sha512}")


def _unpack(tarball: Path, release: Release, target: Path) -> int:
    prefix = release.source.rstrip("/") + "/"
    count = 0
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            inside = member.name.removeprefix("./")
            if member.isfile() and inside.startswith(prefix) and inside.endswith(release.suffixes):
                destination = target / inside[len(prefix):]
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.extractfile(member) as source, destination.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
                count += 1
            elif member.isfile() and inside == LICENSES.get(release.target):
                with archive.extractfile(member) as source:
                    (target / "LICENSE").write_bytes(source.read())
    if count == 0:
        raise RuntimeError(f"{release.spec}: no file under {release.source} in the tarball")
    return count


def fetch(force: bool = False) -> None:
    """Fetch, check and unpack every pinned release into ``_assets/vendor`` (skipped when done)."""
    if is_complete() and not force:
        print(f"offline assets: up to date in {VENDOR.relative_to(ROOT)}")
        return
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    VENDOR.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as scratch:
        for release in RELEASES:
            tarball = _npm_pack(release.spec, Path(scratch))
            _check(tarball, release)
            count = _unpack(tarball, release, VENDOR / release.target)
            where = (VENDOR / release.target).relative_to(ROOT)
            print(f"offline assets: {release.spec} ({count} files) -> {where}")
    COMPLETE.write_text(_stamp())


def _check_config(app, config) -> None:
    """Every script that carries math or widgets is a file in _assets, none is loaded from a CDN."""
    from sphinx.errors import ExtensionError

    if not is_complete():
        raise ExtensionError("the book's MathJax and widget scripts are missing from _assets/vendor: "
                             "run 'make install' (or 'python3 _ext/offline_assets.py')")
    scripts = [config.mathjax_path, *config.nb_ipywidgets_js]
    missing = [script for script in scripts if "://" in script or script.startswith("/")
               or not (ASSETS / script).is_file()]
    if missing:
        raise ExtensionError(f"mathjax_path and nb_ipywidgets_js (_config.yml) must name files in "
                             f"{ASSETS.name}/, so the pages render offline; these are not: {missing}")
    config.html_static_path.append(str(ASSETS))  # after the theme's files: ours replace theirs


def setup(app):
    app.connect("config-inited", _check_config, priority=900)  # after myst-nb has read its settings
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    fetch(force="--force" in sys.argv[1:])
