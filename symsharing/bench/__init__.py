"""``python -m symsharing bench``: the stacked engine against the per-model loop and against JAX.

Two workloads (``workloads``): the reference, K = 32 MLPs 16 -> 64 -> 64 -> 1 on 512 samples each,
full batch, 500 Adam steps; and a tied one, K = 32 ring models (``SharedMLP`` on C16, 8 channels,
as in the study) on 128 samples each. For each, the bench times, in alternating repetitions (A B C
D A B C D ...; the machine may be shared) and with the worker pool already started (warm against
warm): (a) the loop, plain modules with ``torch.optim.Adam`` one after another (timed on 8 of the
models and scaled: its time is a sum over the models); (b) the engine,
``fit_many``; (c) the engine with compiled stacks (``fit_many(compile=True)``, after a first call
that compiles, timed apart); (d) JAX (``jax_rows``, when ``jax`` and ``optax`` import; not a
dependency of the book). It prints the medians, ``engine/loop``, ``compiled/engine`` and
``engine/jax``, and, where the engine is not 1.5x ahead of JAX, where one stack's time goes
(``profile``: GEMM, elementwise, optimizer, Python and dispatch).

Then: extra MLP shapes (engine against loop), the first call in a fresh process against later
calls (``startup.first_calls``: the cold-start cost), and the quick study from an empty cache on
one worker and on all of them, with ``parallel efficiency: E`` = time on 1 / (workers x time on
all). The first line gives the load average (other processes on the machine skew every timing);
the last line printed is ``engine/loop speedup: X.XX  fraction of GEMM peak: F.FF`` (the
reference's engine against the GEMM peak measured between its repetitions).
"""

from symsharing.bench.jax_rows import time_jax
from symsharing.bench.main import main
from symsharing.bench.profile import profile_stack
from symsharing.bench.startup import first_calls, time_study
from symsharing.bench.workloads import (
                                        EXTRA,
                                        REFERENCE,
                                        TIED,
                                        TINY,
                                        TINY_TIED,
                                        TiedWorkload,
                                        Workload,
                                        final_loss,
                                        gemm_peak,
                                        time_engine,
                                        time_loop,
)

__all__ = ["Workload", "TiedWorkload", "REFERENCE", "TIED", "EXTRA", "TINY", "TINY_TIED", "gemm_peak",
           "time_loop", "time_engine", "final_loss", "time_jax", "profile_stack", "first_calls", "time_study",
           "main"]
