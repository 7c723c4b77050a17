"""Test configuration: hypothesis profiles, chosen by an environment variable.

``SYMSHARING_HYPOTHESIS_PROFILE`` (or ``HYPOTHESIS_PROFILE``) picks one of

- ``ci``: few examples, for a quick run of the whole suite;
- ``default``: the everyday setting (what a bare ``pytest`` uses);
- ``thorough``: at least 200 examples per property, for a long run before a release.

Every profile has ``deadline=None``: timings on a shared machine are noise, never a test result.
"""

import os

# Tests train tiny models: worker processes would cost more to start than they save. The tests of
# the pool ask for workers explicitly.
os.environ.setdefault("SYMSHARING_WORKERS", "1")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from symsharing.train import one_thread  # noqa: E402

PROFILES = {"ci": 10, "default": 30, "thorough": 250}

for _name, _examples in PROFILES.items():
    settings.register_profile(
        _name,
        max_examples=_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        print_blob=True,
    )

_selected = (os.environ.get("SYMSHARING_HYPOTHESIS_PROFILE") or os.environ.get("HYPOTHESIS_PROFILE")
             or "default")
if _selected not in PROFILES:
    raise ValueError(f"unknown hypothesis profile {_selected!r}; known: {', '.join(PROFILES)}")
settings.load_profile(_selected)


@pytest.fixture
def single_torch_thread():
    """One intra-op torch thread for the duration of a test (see ``symsharing.train.one_thread``)."""
    with one_thread():
        yield


@pytest.fixture
def preserved_environment():
    """``os.environ`` restored after the test (Dask's nannies set OMP_NUM_THREADS=1 and the like in
    the process that starts them, which later subprocesses would inherit)."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
