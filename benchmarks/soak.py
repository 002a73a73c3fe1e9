"""Soak: many short runs back to back in one process must not leak memory.

    python benchmarks/soak.py [--runs 50] [--model mlp] [--bound-mb 50] [--json out.json]

Each run goes through ``mnistkit.cli.main(["run", ...])``, the path a user's
``mnistkit run`` takes: plugins, data loading, model and optimizer, the
engine, a checkpoint every epoch and a run folder with plots. Runs train one
epoch on 1,000 random digits (IDX files made in a temporary folder). After
each run the garbage collector runs and the resident memory (RSS) is read,
then read again after glibc's ``malloc_trim`` hands freed heap pages back to
the OS ("trimmed"): raw RSS is what a user sees, trimmed RSS is what is still
in use, without the allocator's slack.

The bound: after the 5th run, when the libraries have loaded and the caches
have warmed up, RSS may grow by at most ``--bound-mb`` (50 MB) by the last
run. Exit code 1 when it does not hold. A table goes to stderr and a JSON
summary to stdout (and to ``--json``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

WARMUP_RUNS = 5


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def trim() -> bool:
    """Hand freed heap memory back to the OS (glibc's ``malloc_trim``); False where there is none."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
        return True
    except (OSError, AttributeError):
        return False


def make_data(directory: Path, n_train: int = 1000, n_test: int = 200) -> Path:
    from mnistkit.data import files

    rng = np.random.default_rng(0)
    return files.write_dir(
        directory,
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), np.arange(n_train) % 10,
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), np.arange(n_test) % 10,
    )


@contextmanager
def silenced():
    """Send the run's terminal output to /dev/null at the file-descriptor level."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def soak(runs: int = 50, *, data_dir: Path | None = None, workdir: Path | None = None, model: str = "mlp",
         options: tuple[str, ...] = (), progress=lambda row: None) -> list[dict]:
    """Run ``runs`` one-epoch trainings back to back; one row per run: RSS (MB) and seconds."""
    from mnistkit.cli import main

    workdir = Path(workdir or tempfile.mkdtemp(prefix="mnistkit-soak-"))
    data_dir = Path(data_dir) if data_dir else make_data(workdir / "data")
    rows = []
    for run in range(1, runs + 1):
        start = time.perf_counter()
        args = ["run", "--data", "idx", "--data-dir", str(data_dir), "--model", model, "--epochs", "1",
                "--batch-size", "100", "--seed", str(run), "--out", str(workdir / "runs"),
                *(arg for option in options for arg in ("--model-opt", option))]
        with silenced():
            code = main(args)
        if code != 0:
            raise SystemExit(f"run {run} exited with {code}: mnistkit {' '.join(args)}")
        gc.collect()
        row = {"run": run, "rss_mb": round(rss_mb(), 1), "seconds": round(time.perf_counter() - start, 2)}
        if trim():
            row["rss_trimmed_mb"] = round(rss_mb(), 1)
        rows.append(row)
        progress(rows[-1])
    return rows


def summary(rows: list[dict], bound_mb: float) -> dict:
    warm = rows[min(WARMUP_RUNS, len(rows)) - 1]
    base = warm["rss_mb"]
    growth = rows[-1]["rss_mb"] - base
    trimmed = {}
    if "rss_trimmed_mb" in rows[-1]:
        trimmed = {
            "rss_trimmed_after_last_mb": rows[-1]["rss_trimmed_mb"],
            "trimmed_growth_after_warmup_mb": round(rows[-1]["rss_trimmed_mb"] - warm["rss_trimmed_mb"], 1),
        }
    return {
        "runs": len(rows),
        "rss_after_first_mb": rows[0]["rss_mb"],
        f"rss_after_run_{min(WARMUP_RUNS, len(rows))}_mb": base,
        "rss_after_last_mb": rows[-1]["rss_mb"],
        "rss_peak_mb": max(row["rss_mb"] for row in rows),
        "growth_after_warmup_mb": round(growth, 1),
        "growth_per_run_mb": round(growth / max(1, len(rows) - WARMUP_RUNS), 2),
        "bound_mb": bound_mb,
        **trimmed,
        "within_bound": growth <= bound_mb,
        "seconds_per_run": round(sum(row["seconds"] for row in rows) / len(rows), 2),
        "rows": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--bound-mb", type=float, default=50.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the summary here")
    args = parser.parse_args()

    print(f"{'run':>4}  {'RSS MB':>8}  {'trimmed':>8}  {'seconds':>7}", file=sys.stderr)
    rows = soak(args.runs, model=args.model, progress=lambda r: print(
        f"{r['run']:>4}  {r['rss_mb']:>8.1f}  {r.get('rss_trimmed_mb', float('nan')):>8.1f}  {r['seconds']:>7.2f}",
        file=sys.stderr, flush=True))
    result = summary(rows, args.bound_mb)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    verdict = "within" if result["within_bound"] else "OVER"
    print(f"RSS grew {result['growth_after_warmup_mb']} MB from run {WARMUP_RUNS} to run {len(rows)}: "
          f"{verdict} the bound of {args.bound_mb:g} MB", file=sys.stderr)
    return 0 if result["within_bound"] else 1


if __name__ == "__main__":
    sys.exit(main())
