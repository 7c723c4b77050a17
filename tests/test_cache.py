"""The results cache: atomic entries, corruption detected and recomputed, code changes invalidate,
and interrupted sweeps (KeyboardInterrupt, SIGKILL) resume without retraining finished units."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from symsharing.engine import cache
from symsharing.engine.cache import CacheCorruptionWarning
from symsharing.study import axes, runner
from symsharing.study import config as study_config

TINY_TRAINING = study_config.TrainingConfig(steps=3, batch_size=16, n_test=32, lr_grid=(1e-3,),
                                           lr_n_train=32, mlp_width=8,
                                           shared_width=(("set", 2), ("ring", 2), ("grid", 2)))
TINY = study_config.AxisConfig("sample-efficiency", seeds=(0, 1), n_trains=(16,), tasks=("set", "ring"),
                              families=("mlp", "shared"), training=TINY_TRAINING)


@pytest.fixture(autouse=True)
def cache_folder(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SYMSHARING_CACHE_DIR", str(folder))
    return folder


class CountingFit:
    """Wraps ``fit_many``: counts calls and models, and can raise on a given call."""

    def __init__(self, raise_on_call=None):
        self.calls, self.models, self.raise_on_call = 0, 0, raise_on_call
        self.real = runner.fit_many

    def __call__(self, models, datasets, **kwargs):
        self.calls += 1
        if self.calls == self.raise_on_call:
            raise KeyboardInterrupt
        self.models += len(models)
        return self.real(models, datasets, **kwargs)


def entries(folder):
    return sorted((folder / "units").glob("*.json")) if (folder / "units").exists() else []


def test_round_trip_is_atomic_and_leaves_no_temporary_file(cache_folder):
    key = cache.cache_key({"a": 1}, device="cpu", dtype="float32")
    path = cache.entry_path(key)
    cache.store_entry(path, key, [{"x": 1.5, "nan": float("nan")}])
    assert cache.load_entry(path, key)[0]["x"] == 1.5
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_cached_computes_once(cache_folder):
    key = cache.cache_key({"a": 2}, device="cpu", dtype="float32")
    calls = []
    first = cache.cached(key, lambda: calls.append(1) or {"value": 3})
    second = cache.cached(key, lambda: calls.append(1) or {"value": 4})
    assert first == second == {"value": 3} and len(calls) == 1


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_corrupt_entry_is_reported_and_recomputed(cache_folder, damage):
    key = cache.cache_key({"a": 3}, device="cpu", dtype="float32")
    cache.cached(key, lambda: {"values": [1.0, 2.0, 3.0]})
    path = cache.entry_path(key)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":  # a digit of the payload changes: the JSON still parses, the checksum fails
        index = data.index(b"2.0")
        path.write_bytes(data[:index] + b"7" + data[index + 1:])
    else:
        path.write_bytes(b"\x00\xff" * 10)
    with pytest.warns(CacheCorruptionWarning, match=str(path.name)):
        value = cache.cached(key, lambda: {"values": [9.0]})
    assert value == {"values": [9.0]}
    assert cache.load_entry(path, key) == {"values": [9.0]}


def test_code_hash_changes_with_the_package_source(tmp_path):
    package = tmp_path / "package"
    shutil.copytree(cache.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = cache.code_hash(package)
    assert before == cache.code_hash(cache.PACKAGE_DIR)
    with open(package / "models.py", "a") as file:
        file.write("\n# a change\n")
    assert cache.code_hash(package) != before


def test_code_hash_ignores_presentation_modules(tmp_path):
    package = tmp_path / "package"
    shutil.copytree(cache.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = cache.code_hash(package)
    for name in cache.PRESENTATION_MODULES:
        target = package / name / "plots.py" if (package / name).is_dir() else package / name
        with open(target, "a") as file:
            file.write("\n# a change to how results are shown\n")
    assert cache.code_hash(package) == before
    with open(package / "study" / "runner.py", "a") as file:  # a module in a subpackage counts
        file.write("\n# a change\n")
    assert cache.code_hash(package) != before


def test_code_hash_change_retrains(cache_folder, monkeypatch):
    counter = CountingFit()
    monkeypatch.setattr(runner, "fit_many", counter)
    axes.size_sweep(TINY)
    trained = counter.models
    axes.size_sweep(TINY)
    assert counter.models == trained  # second run: all from the cache
    monkeypatch.setattr(cache, "code_hash", lambda package_dir=None: "0123456789abcdef")
    axes.size_sweep(TINY)
    assert counter.models == 2 * trained


def test_keyboard_interrupt_resumes_without_retraining(cache_folder, monkeypatch):
    reference = axes.size_sweep(TINY)
    shutil.rmtree(cache_folder)
    # calls: learning rates (set), units (set), learning rates (ring), units (ring)
    monkeypatch.setattr(runner, "fit_many", CountingFit(raise_on_call=4))
    with pytest.raises(KeyboardInterrupt):
        axes.size_sweep(TINY)
    assert len(entries(cache_folder)) == 2  # the set task's two units survived
    counter = CountingFit()
    monkeypatch.setattr(runner, "fit_many", counter)
    resumed = axes.size_sweep(TINY)
    assert counter.calls == 1 and counter.models == 4  # ring: 2 families x 2 seeds, nothing else
    columns = [c for c in resumed.columns if c != "seconds"]
    assert resumed[columns].equals(reference[columns])


def test_killed_process_resumes_without_retraining(cache_folder, monkeypatch):
    script = textwrap.dedent("""
        import os, signal
        from symsharing.study import axes, runner
        import tests.test_cache as spec
        real, calls = runner.fit_many, []
        def killing(models, datasets, **kwargs):
            calls.append(1)
            if len(calls) == 4:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(models, datasets, **kwargs)
        runner.fit_many = killing
        axes.size_sweep(spec.TINY)
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, timeout=300,
                            env={**os.environ, "SYMSHARING_CACHE_DIR": str(cache_folder)})
    assert result.returncode == -9, result.stderr.decode()[-2000:]
    survivors = entries(cache_folder)
    assert len(survivors) == 2
    for path in survivors:  # complete, checksummed entries only
        assert "checksum" in json.loads(path.read_bytes())
    assert not list((cache_folder / "units").glob("*.tmp"))
    counter = CountingFit()
    monkeypatch.setattr(runner, "fit_many", counter)
    resumed = axes.size_sweep(TINY)
    assert counter.calls == 1 and counter.models == 4
    assert len(resumed) == 2 * 2 * 2  # tasks x families x seeds


@pytest.mark.parametrize("workers", ["1", "2"])
def test_cached_calls_compute_the_missing_in_the_pool_and_read_the_rest(cache_folder, monkeypatch, workers):
    monkeypatch.setenv("SYMSHARING_WORKERS", workers)
    keys = [cache.cache_key({"unit": "square", "x": x}, device="cpu", dtype="int") for x in range(5)]
    cache.store_entry(cache.entry_path(keys[0], "calls"), keys[0], 100)  # already there: read back
    squares = cache.cached_calls([(key, pow, (x, 2)) for x, key in enumerate(keys)], "calls")
    assert squares == [100, 1, 4, 9, 16]
    # every entry is stored now: a call that would fail is never made
    assert cache.cached_calls([(key, divmod, (1, 0)) for key in keys], "calls") == [100, 1, 4, 9, 16]
