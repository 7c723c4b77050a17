"""``python -m symsharing``: list the book's experiments, run them from the shell, benchmark training.

::

    python -m symsharing list
    python -m symsharing run sample-efficiency --quick --out results/cli
    python -m symsharing run all --seeds 3 --scheduler tcp://127.0.0.1:8786
    python -m symsharing run sample-efficiency --device cuda
    python -m symsharing bench --help

``run`` writes one tidy CSV (one row per trained model, the columns of
``symsharing.study.config.RECORD_COLUMNS``) and one figure per experiment into ``--out``, shows a
progress bar over the experiments and ends with a summary table. The experiments read and fill the
same on-disk results cache as the chapters, so a configuration the book already ran is read back.
With ``--scheduler`` the experiments run in this process, one after another (models are
initialised from torch's global random state, so they are built in one thread), and every *stack* of
models they train is one task of a Dask distributed cluster (``parallel.use_scheduler``): the
trained weights come back here and this process scores them and writes the cache, so the workers
need this package installed but no shared disk; Dask reruns the stacks of a worker that dies
elsewhere, and a rerun computes only what the cache lacks. ``--device cuda`` trains the stacks on
the GPU (records and cache keys carry the device; the book's default is the CPU); ``--compile``
compiles the MLP stacks' training steps (``symsharing.engine.compiled``: it pays in long runs only).

Bad arguments end with argparse's usage message and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

__all__ = ["main", "build_parser"]

DEFAULT_OUT = Path("results") / "cli"
# experiment -> (x, value) of the figure written next to its CSV (the axis of its chapter)
FIGURES = {
    "robustness": ("n_train", "test_score_transformed"),
    "sample-efficiency": ("n_train", "test_score"),
    "parameter-efficiency": ("n_params", "test_score"),
    "generalization": ("n_train", "ood_score"),
}


def _experiments():
    """The ``symsharing.registry`` module, imported on first use (it pulls in torch)."""
    from symsharing import registry

    return registry


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _experiment_name(text: str) -> str:
    known = list(_experiments().EXPERIMENTS)
    if text != "all" and text not in known:
        raise argparse.ArgumentTypeError(f"unknown experiment {text!r}; choose from: all, {', '.join(known)}")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m symsharing",
        description="Run the experiments of the book 'Symmetry-induced parameter sharing as an "
                    "inductive bias' from the shell.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="list every experiment with the chapter that shows it",
                        description="List every experiment, one line each, with its chapter.")
    run = commands.add_parser(
        "run", help="run one experiment, or all, and write CSV + figures",
        description="Run experiments (results are cached on disk, as in the book) and write one tidy "
                    "CSV and one figure per experiment into --out.")
    run.add_argument("name", type=_experiment_name, metavar="NAME|all",
                     help="an experiment name (see 'list') or 'all'")
    run.add_argument("--quick", action="store_true",
                     help="small sweeps (sets SYMSHARING_QUICK=1 for this process)")
    run.add_argument("--seeds", type=_positive_int, metavar="N",
                     help="number of seeds (0 .. N-1) instead of the experiment's default")
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                     help=f"output folder (default: {DEFAULT_OUT})")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="Dask distributed scheduler (e.g. tcp://127.0.0.1:8786): one task per stack")
    run.add_argument("--device", choices=("cpu", "cuda"),
                     help="where the stacks train (sets SYMSHARING_DEVICE; default: that, else cpu)")
    run.add_argument("--workers", type=_positive_int, metavar="N",
                     help="processes that train the stacks, this one included (default: "
                          "$SYMSHARING_WORKERS, else the number of CPU cores)")
    run.add_argument("--compile", action="store_true",
                     help="compile the stacks' training steps (sets SYMSHARING_COMPILE=1; pays in long runs)")
    commands.add_parser("bench", add_help=False, help="benchmark training (see 'bench --help')",
                        description="Benchmark training; arguments go to symsharing.bench.")
    return parser


def _list() -> int:
    experiments = _experiments()
    rows = [(name, chapter, " ".join((function.__doc__ or "").split("\n\n")[0].split()).replace("``", ""))
            for name, (function, chapter) in experiments.EXPERIMENTS.items()]
    name_width, chapter_width = (max(len(row[k]) for row in rows) for k in (0, 1))
    for name, chapter, summary in rows:
        print(f"{name:{name_width}s}  {chapter:{chapter_width}s}  {summary}")
    return 0


def run_one(name: str, quick: bool, seeds: int | None):
    """The records of experiment ``name`` (its stacks train locally, or on the cluster)."""
    return _experiments().run_experiment(name, quick=quick, seeds=seeds)


def _run_local(names, quick, seeds):
    for name in names:
        yield name, run_one(name, quick, seeds)


def _run_distributed(names, quick, seeds, address: str, parser: argparse.ArgumentParser):
    """The experiments in this process; every stack they train goes to the cluster."""
    from dask.distributed import Client

    from symsharing.engine.pool import use_scheduler

    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as error:
        parser.error(f"argument --scheduler: cannot connect to {address!r}: {error}")
    try:
        with use_scheduler(client):
            for name in names:
                yield name, run_one(name, quick, seeds)
    finally:
        client.close()


def _save_figure(name: str, frame, path: Path) -> bool:
    """Save ``plots.plot_curves`` of experiment ``name`` along its axis (``FIGURES``); False if none."""
    if name not in FIGURES:
        return False
    import matplotlib

    matplotlib.use("Agg")
    from symsharing.figures.plots import plot_curves

    x, value = FIGURES[name]
    plot_curves(frame, x=x, value=value).save(path, dpi=120)
    return True


# the value summarised per experiment, first found: the axes' test score, mode connectivity's barrier
SUMMARY_VALUES = {"test_score": "mean test score (accuracy: higher is better; mse: lower is better)",
                  "barrier": "mean loss barrier between the two networks of a pair (lower: better connected)"}


def _summary(frame) -> str:
    """Mean of the experiment's headline value per task (rows, with the metric) and family (columns)."""
    value = next((column for column in SUMMARY_VALUES if column in frame.columns), None)
    if value is None or not {"task", "family"} <= set(frame.columns):
        return f"(no summary: columns {', '.join(map(str, frame.columns))})"
    rows = ["task", "metric"] if "metric" in frame.columns else ["task"]
    table = frame.groupby(rows + ["family"], sort=False)[value].mean().unstack("family")
    return SUMMARY_VALUES[value] + "\n" + table.to_string(float_format=lambda number: f"{number:.3f}")


def _run(args, parser: argparse.ArgumentParser) -> int:
    from tqdm.auto import tqdm

    known = list(_experiments().EXPERIMENTS)
    names = known if args.name == "all" else [args.name]
    if args.quick:
        os.environ["SYMSHARING_QUICK"] = "1"
    if args.workers is not None:
        os.environ["SYMSHARING_WORKERS"] = str(args.workers)
    if args.device is not None:
        os.environ["SYMSHARING_DEVICE"] = args.device
    if args.compile:
        os.environ["SYMSHARING_COMPILE"] = "1"
    from symsharing.settings import device, is_quick

    try:
        device()  # a GPU asked for where there is none: a usage error, before any work
    except ValueError as error:
        parser.error(f"argument --device: {error}")

    quick = is_quick()  # resolved here, so that remote workers follow this process's choice
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"argument --out: cannot create {str(args.out)!r}: {error}")
    if not args.scheduler:
        from symsharing.engine.pool import prewarm

        prewarm()  # the workers start while the experiments import and build their data
    runs = (_run_distributed(names, quick, args.seeds, args.scheduler, parser) if args.scheduler
            else _run_local(names, quick, args.seeds))
    start, written = time.perf_counter(), []
    with tqdm(total=len(names), desc="experiments", unit="run", file=sys.stderr) as bar:
        for name, frame in runs:
            csv_path = args.out / f"{name}.csv"
            frame.to_csv(csv_path, index=False)
            figure_path = args.out / f"{name}.png"
            written.append((name, frame, csv_path, figure_path if _save_figure(name, frame, figure_path)
                            else None))
            bar.set_postfix_str(f"{name}: {len(frame)} rows")
            bar.update()
    mode = "quick" if quick else "full"
    print(f"\n{len(written)} experiment(s), {mode} sweeps, {time.perf_counter() - start:.1f} s"
          f"{' on ' + args.scheduler if args.scheduler else ''}")
    for name, frame, csv_path, figure_path in sorted(written, key=lambda item: names.index(item[0])):
        seeds = sorted(frame["seed"].unique().tolist()) if "seed" in frame.columns else "-"
        print(f"\n== {name}: {len(frame)} records, seeds {seeds}"
              f" -> {csv_path}{', ' + str(figure_path) if figure_path else ''}")
        print(_summary(frame))
    return 0


def _bench(argv: list[str]) -> int:
    from symsharing import bench

    return bench.main(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if argv and argv[0] == "bench":  # everything after 'bench' belongs to the benchmark's own parser
        return _bench(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "list":
        return _list()
    return _run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
