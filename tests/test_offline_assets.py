"""The book's MathJax and widget scripts (_ext/offline_assets.py): a tarball is used only when its
SHA-512 is the pinned one, only the files the pages load are unpacked, and a build stops when the
configuration names a script that is not a file in _static. No network: the tarballs are made here."""

import base64
import hashlib
import io
import sys
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))
import offline_assets  # noqa: E402


def _tarball(tmp_path: Path, files: dict[str, bytes]) -> Path:
    path = tmp_path / "package.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _release(tarball: Path, **changes) -> offline_assets.Release:
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    fields = {"spec": "demo@1.0.0", "sha512": digest, "source": "package/dist", "suffixes": (".js", ".woff"),
              "target": "demo"}
    return offline_assets.Release(**{**fields, **changes})


def test_a_tarball_is_used_only_with_its_pinned_digest(tmp_path):
    tarball = _tarball(tmp_path, {"package/dist/a.js": b"one"})
    offline_assets._check(tarball, _release(tarball))
    tampered = _release(tarball, sha512="sha512-" + base64.b64encode(b"x" * 64).decode())
    with pytest.raises(RuntimeError, match="expected the pinned"):
        offline_assets._check(tarball, tampered)


def test_only_the_files_the_pages_load_are_unpacked(tmp_path):
    tarball = _tarball(tmp_path, {"package/dist/embed.js": b"js", "package/dist/fonts/f.woff": b"font",
                                  "package/dist/embed.js.map": b"map", "package/src/index.ts": b"ts"})
    target = tmp_path / "out"
    assert offline_assets._unpack(tarball, _release(tarball), target) == 2
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        "embed.js", "fonts/f.woff"]
    with pytest.raises(RuntimeError, match="no file under"):
        offline_assets._unpack(tarball, _release(tarball, source="package/missing"), tmp_path / "none")


def test_every_pinned_release_names_an_exact_version_and_a_sha512():
    for release in offline_assets.RELEASES:
        name, _, version = release.spec.rpartition("@")
        assert name and version.count(".") == 2 and version.replace(".", "").isdigit(), release.spec
        assert release.sha512.startswith("sha512-") and len(base64.b64decode(release.sha512[7:])) == 64


def test_a_build_stops_on_a_script_from_a_cdn_or_a_missing_file(monkeypatch):
    from sphinx.errors import ExtensionError

    monkeypatch.setattr(offline_assets, "is_complete", lambda: True)
    cdn = SimpleNamespace(mathjax_path="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js",
                          nb_ipywidgets_js={})
    with pytest.raises(ExtensionError, match="must name files in _assets"):
        offline_assets._check_config(None, cdn)
    missing = SimpleNamespace(mathjax_path="vendor/none.js", nb_ipywidgets_js={"widget-math.js": {}})
    with pytest.raises(ExtensionError, match="vendor/none.js"):
        offline_assets._check_config(None, missing)
    monkeypatch.setattr(offline_assets, "is_complete", lambda: False)
    with pytest.raises(ExtensionError, match="make install"):
        offline_assets._check_config(None, missing)
