"""Tests for ``symsharing.engine.pool``'s life cycle, each in a fresh Python process: a script
without a main guard trains (in its own process, with a warning saying what to add), a pool that
cannot start is given up without losing a result, and no worker prints a traceback when the
process group is interrupted (as a notebook kernel is when it is interrupted or shut down) while
the pool is idle, starting or training. Timeouts only stop a hung process; nothing is timed."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

TRAIN = """\
import torch
from symsharing.models import MLP
from symsharing.train import fit_many
torch.manual_seed(0)
models = [MLP(4, 1, 8) for _ in range(4)]
data = [(torch.randn(16, 4), torch.randn(16, 1)) for _ in range(4)]
fit_many(models, data, steps=5, workers=2, max_stack_elements=16)
print("weights", repr(sum(float(p.detach().double().sum()) for m in models for p in m.parameters())))
"""


def _environment() -> dict:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("SYMSHARING_WORKERS", None)  # conftest asks for 1
    return environment


def _run(tmp_path, source: str) -> subprocess.CompletedProcess:
    script = tmp_path / "script.py"
    script.write_text(source)
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          env=_environment(), cwd=tmp_path)


def _guarded(source: str) -> str:
    return 'if __name__ == "__main__":\n' + textwrap.indent(source, "    ")


def _weights(completed: subprocess.CompletedProcess) -> str:
    assert completed.returncode == 0, completed.stderr
    return next(line for line in completed.stdout.splitlines() if line.startswith("weights"))


def test_a_script_without_main_guard_trains_here_and_says_what_to_add(tmp_path):
    unguarded = _run(tmp_path, TRAIN)
    guarded = _run(tmp_path, _guarded(TRAIN))
    assert _weights(unguarded) == _weights(guarded)  # the same models, bit for bit
    assert 'if __name__ == "__main__":' in unguarded.stderr and "script.py:7" in unguarded.stderr
    assert "Traceback" not in unguarded.stderr + guarded.stderr
    assert "RuntimeWarning" not in guarded.stderr


def test_a_pool_that_cannot_start_is_given_up_without_losing_a_result(tmp_path):
    # the guard check blinded: the worker re-runs this unguarded script, dies starting workers of
    # its own, and the broken pool's stacks are trained in the main process
    blinded = "from symsharing.engine import pool\npool.unguarded_main_script = lambda: None\n" + TRAIN
    given_up = _run(tmp_path, blinded)
    assert "could not start" in given_up.stderr
    assert _weights(given_up) == _weights(_run(tmp_path, _guarded(TRAIN)))


IDLE = """\
import time
import torch
from symsharing.models import MLP
from symsharing.train import fit_many
torch.manual_seed(0)
models = [MLP(4, 1, 8) for _ in range(4)]
data = [(torch.randn(16, 4), torch.randn(16, 1)) for _ in range(4)]
fit_many(models, data, steps=5, workers=3, max_stack_elements=16)
print("ready", flush=True)
"""
STARTING = """\
from symsharing.engine import pool
pool.prewarm(3)
print("ready", flush=True)
"""
TRAINING = """\
import torch
from symsharing.models import MLP
from symsharing.train import fit_many
torch.manual_seed(0)
models = [MLP(4, 1, 64) for _ in range(6)] + [MLP(4, 1, 8)]
data = [(torch.randn(256, 4), torch.randn(256, 1)) for _ in range(7)]
# the tiny last stack, trained here first, says when the others are training (for hours, unless stopped)
fit_many(models, data, steps=[10**7] * 6 + [2], workers=3, max_stack_elements=1,
         on_stack=lambda members, histories: print("ready", flush=True))
"""
WAIT = """\
import time
time.sleep(120)
"""


@pytest.mark.parametrize("state", ["idle", "starting", "training"])
def test_an_interrupted_process_group_prints_no_worker_traceback(tmp_path, state):
    # the main process catches the interrupt as a notebook kernel does; its workers must stay silent
    body = {"idle": IDLE + WAIT, "starting": STARTING + WAIT, "training": TRAINING}[state]
    script = tmp_path / "script.py"
    script.write_text(_guarded("try:\n" + textwrap.indent(body, "    ")
                               + "except KeyboardInterrupt:\n    print('interrupted', flush=True)\n"))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=_environment(), cwd=tmp_path,
                               start_new_session=True)
    try:
        assert process.stdout.readline() == "ready\n"
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0 and "interrupted" in out, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "SpawnProcess" not in err


def test_a_process_that_ends_with_a_live_pool_prints_nothing(tmp_path):
    completed = _run(tmp_path, _guarded(IDLE))
    assert completed.returncode == 0 and completed.stdout == "ready\n" and completed.stderr == ""
