"""Benchmark mnistkit's engines against the original tutorial loop, side by side.

    python benchmarks/run.py [--data-dir ../shared/data/mnist] [--epochs 2] [--quick] [--json out.json]
    python benchmarks/run.py --speedrun --seeds 0 1 2
    python benchmarks/run.py --all        # both in one table (benchmarks/gpu.sh uses it)

Every configuration runs as its own whole process, one after the other on
this machine, timed from process start (imports, compilation, run folders
and plots included), each with an empty JAX compilation cache; ``--speedrun``
runs each seed a second time with the cache its first run filled. The baseline is ``benchmarks/tutorial_baseline.py``, a
faithful port of the tutorial's loop; when an interpreter with torch is
around (``--torch-python``, or ``.venv-torch`` beside the checkout), the
same CNN and recipe in PyTorch (``benchmarks/torch_baseline.py``) runs next,
else the row is skipped with a note. Reports images/s (training, epochs
after the first), seconds per epoch (train plus evaluation of every test
image), compile seconds, time to the first train step, time to 99.0% test
accuracy (from process start, and "train99": from the first step, after
compilation), the seconds from the last evaluation to the end of the process, final test accuracy, peak memory, the backend and the overhead
(the whole process less its epochs: start-up, initialisation, plots, exit),
as a table and as JSON, with ratios against the baseline and PyTorch, then the arithmetic floor of an
epoch on this machine (``benchmarks/floor.py``). ``--quick`` is a smoke run
on the bundled sample (one epoch) for CI.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEASURE = str(ROOT / "benchmarks" / "_measure.py")
SAMPLE = ROOT / "mnistkit" / "sample"
TARGET = 0.99
TORCH_ROW = "PyTorch, same CNN and recipe"


def torch_python(choice: str | None) -> str | None:
    """The interpreter for the PyTorch row: ``choice``, else ``.venv-torch``, else this one if it has torch; None: skip.

    ``choice`` "none" skips the row. torch is never a dependency of mnistkit;
    ``python3 -m venv .venv-torch && .venv-torch/bin/pip install torch numpy``
    makes one beside the checkout.
    """
    if choice == "none":
        return None
    if choice:
        if not Path(choice).is_file():
            raise SystemExit(f"benchmark: --torch-python {choice} is not a file")
        return choice
    local = ROOT / ".venv-torch" / "bin" / "python"
    if local.is_file():
        return str(local)
    import importlib.util

    return sys.executable if importlib.util.find_spec("torch") else None


def run_child(cmd: list[str], cwd: Path, cache: Path, python: str = sys.executable) -> tuple[list[tuple[float, dict]], float, float | None, str]:
    """Run ``cmd`` with ``python`` and JAX's compilation cache in ``cache``.

    Returns its JSON stdout lines with arrival times, wall seconds, peak RSS
    and stderr.
    """
    env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    proc = subprocess.Popen([python, MEASURE, *cmd], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        try:
            lines.append((time.perf_counter() - start, json.loads(line)))
        except json.JSONDecodeError:
            pass
    stderr = proc.stderr.read()
    proc.wait()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed ({' '.join(cmd)}):\n{stderr[-3000:]}")
    rss = next((float(l.split("=")[1]) for l in stderr.splitlines() if l.startswith("BENCH_PEAK_RSS_MB=")), None)
    return lines, wall, rss, stderr


def summarise_baseline(lines, wall, rss) -> dict:
    summary = next(obj for _, obj in lines if obj.get("summary"))
    epochs = [(t, obj) for t, obj in lines if "epoch" in obj and not obj.get("summary")]
    steady = [obj for _, obj in epochs[1:]] or [obj for _, obj in epochs]
    return {
        "backend": summary["backend"],
        "images_per_sec": sum(summary["steps_per_epoch"] * summary["batch_size"] / o["train_seconds"] for o in steady) / len(steady),
        "epoch_seconds": sum(o["epoch_seconds"] for o in steady) / len(steady),
        "compile_seconds": summary["compile_seconds"],
        "first_step_seconds": summary["first_step_at"],
        "time_to_99": next((t for t, o in epochs if o["test_accuracy"] >= TARGET), None),
        "final_accuracy": epochs[-1][1]["test_accuracy"],
        "accuracy_by_epoch": [o["test_accuracy"] for _, o in epochs],
        "peak_rss_mb": rss,
        "process_seconds": wall,
        "overhead_seconds": wall - sum(o["epoch_seconds"] for _, o in epochs),
    }


def summarise_mnistkit(lines, wall, rss) -> dict:
    events = [(t, obj) for t, obj in lines if "event" in obj]
    started = next(o for _, o in events if o["event"] == "RunStarted")
    compiled_at, compiled = next((t, o) for t, o in events if o["event"] == "Compiled")
    ends = {o["epoch"]: o for _, o in events if o["event"] == "EpochEnd"}
    evals = [(t, o) for t, o in events if o["event"] == "Evaluation"]
    steady = [e for e in sorted(ends) if e > 1] or sorted(ends)
    # The engine's own speed of each epoch: images over seconds after the first (compiled) call.
    speed = {o["epoch"]: o["images_per_sec"] for _, o in events if o["event"] == "Progress"}
    eval_secs = {o["epoch"]: o["seconds"] for _, o in evals}
    return {
        "backend": started["backend"],
        "devices": len(started["devices"]),
        "images_per_sec": sum(speed[e] for e in steady) / len(steady),
        "epoch_seconds": sum(ends[e]["seconds"] + eval_secs[e] for e in steady) / len(steady),
        "compile_seconds": compiled["seconds"],
        "first_step_seconds": compiled_at,
        "time_to_99": next((t for t, o in evals if o["test"]["accuracy"] >= TARGET), None),
        "final_accuracy": evals[-1][1]["test"]["accuracy"],
        "accuracy_by_epoch": [o["test"]["accuracy"] for _, o in evals],
        "peak_rss_mb": rss,
        "process_seconds": wall,
        "overhead_seconds": wall - sum(ends[e]["seconds"] + eval_secs[e] for e in ends),
        "after_last_evaluation_seconds": wall - evals[-1][0],  # pictures, TensorBoard, checkpoint, exit
    }


def configurations(args) -> list[tuple[str, list[str], str]]:
    data = ["--data-dir", str(args.data_dir)]
    epochs = ["--epochs", str(args.epochs)]
    run = ["-m", "mnistkit", "run", "--model", "cnn", "--json", "--out", "runs", *data, *epochs]
    configs = [("tutorial baseline (port)", [str(ROOT / "benchmarks" / "tutorial_baseline.py"), *data, *epochs], "baseline")]
    if args.torch_python:
        configs.append((TORCH_ROW, [str(ROOT / "benchmarks" / "torch_baseline.py"), *data, *epochs], "torch"))
    configs.append(("mnistkit --engine tutorial", [*run, "--engine", "tutorial"], "mnistkit"))
    configs.append(("mnistkit fast, conv=xla", [*run, "--model-opt", "conv=xla"], "mnistkit"))
    configs.append(("mnistkit (default)", run, "mnistkit"))
    configs.append(("mnistkit default, bfloat16", [*run, "--dtype", "bfloat16"], "mnistkit"))
    return configs


def speedrun_configurations(args) -> list[tuple[str, list[str], str]]:
    """Each seed twice: with an empty compilation cache, then again with the cache the first run filled."""
    configs = []
    for seed in args.seeds:
        cmd = ["-m", "mnistkit", "run", "--recipe", "speedrun", "--seed", str(seed), "--json", "--out", "runs",
               "--data-dir", str(args.data_dir)]
        configs.append((f"speedrun seed {seed}", cmd, "mnistkit"))
        configs.append((f"speedrun seed {seed}, cached", cmd, "mnistkit"))
    return configs


def table(results: list[dict], ratios: bool = True) -> str:
    """The results as text; the ratio columns compare each row with the first (the baseline)."""
    base = results[0]
    head = (f"{'configuration':<30} {'img/s':>8} {'epoch s':>8} {'compile':>8} {'1st step':>8} {'to 99%':>8} {'train99':>8} {'final':>7} "
            f"{'MB':>6} {'process':>8} {'overhead':>8} {'tail':>6} {'x epoch':>8} {'x proc':>7}")
    rows = [head, "-" * len(head)]
    for r in results:
        fmt = lambda v, spec: "-" if v is None else format(v, spec)
        rows.append(
            f"{r['name']:<30} {r['images_per_sec']:>8.0f} {r['epoch_seconds']:>8.1f} {r['compile_seconds']:>8.2f} "
            f"{r['first_step_seconds']:>8.1f} {fmt(r['time_to_99'], '8.1f'):>8} "
            f"{fmt(r.get('train_to_99'), '8.2f'):>8} {r['final_accuracy']:>7.2%} "
            f"{fmt(r['peak_rss_mb'], '6.0f'):>6} {r['process_seconds']:>8.1f} {r['overhead_seconds']:>8.1f} "
            f"{fmt(r.get('after_last_evaluation_seconds'), '6.2f'):>6} "
            + (f"{base['epoch_seconds'] / r['epoch_seconds']:>7.2f}x {base['process_seconds'] / r['process_seconds']:>6.2f}x"
               if ratios else "")
        )
    return "\n".join(rows)


def measure_floor() -> dict:
    """``benchmarks/floor.py`` in a child process: the arithmetic floor of one epoch here."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "floor.py")], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def floor_text(floor: dict, baseline: dict) -> str:
    """What the floor means for the target of three times the baseline's epoch speed."""
    third = baseline["epoch_seconds"] / 3
    return (
        f"floor: {floor['train_step_gflop']:.2f} GFLOP a train step, {floor['epoch_gflop']:,.0f} GFLOP an epoch; "
        f"the best matrix product here runs at {floor['peak_matmul_gflops']:.0f} GFLOP/s, so no epoch takes under "
        f"{floor['epoch_floor_seconds']:.1f} s. A third of the baseline's epoch ({third:.1f} s) needs "
        f"{floor['epoch_floor_seconds'] / third:.0%} of that rate throughout."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="smoke run: bundled sample, one epoch")
    parser.add_argument("--speedrun", action="store_true", help="time `mnistkit run --recipe speedrun` instead")
    parser.add_argument("--all", action="store_true", help="the configurations and the speedrun, in one table")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", default=None, help="run only configurations whose name contains one of these")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this file")
    parser.add_argument("--torch-python", default=None,
                        help="interpreter with torch for the PyTorch row (default: .venv-torch, or this one if it has "
                             "torch; 'none' skips the row)")
    args = parser.parse_args()
    args.torch_python = torch_python(args.torch_python)
    if args.quick:
        args.data_dir, args.epochs, args.seeds = SAMPLE, 1, args.seeds[:1]
    if not (args.data_dir / "train-images-idx3-ubyte.gz").is_file():
        print(f"benchmark: no MNIST files in {args.data_dir}; pass --data-dir or use --quick", file=sys.stderr)
        return 2

    if args.all:
        configs = configurations(args) + speedrun_configurations(args)
    else:
        configs = speedrun_configurations(args) if args.speedrun else configurations(args)
    if args.only:
        configs = [c for c in configs if c[2] != "mnistkit" or any(word in c[0] for word in args.only)]
    notes = []
    if not args.speedrun and not args.torch_python:
        notes.append("PyTorch row skipped: no interpreter with torch here (make one: python3 -m venv .venv-torch && "
                     ".venv-torch/bin/pip install torch numpy, or pass --torch-python)")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env_note = {k: os.environ.get(k) for k in ("XLA_FLAGS", "JAX_PLATFORMS") if os.environ.get(k)}
        for name, cmd, kind in configs:
            print(f"running: {name} ...", file=sys.stderr, flush=True)
            # Every configuration compiles from scratch, except a speedrun's "cached" repeat.
            cache = Path(tmp) / "jax-cache" / (name.removesuffix(", cached"))
            python = args.torch_python if kind == "torch" else sys.executable
            lines, wall, rss, _ = run_child(cmd, Path(tmp), cache, python)
            summary = (summarise_mnistkit if kind == "mnistkit" else summarise_baseline)(lines, wall, rss)
            if summary["time_to_99"] is not None:
                summary["train_to_99"] = summary["time_to_99"] - summary["first_step_seconds"]  # after compilation
            results.append({"name": name, "command": " ".join(cmd), **summary})
    print(table(results, ratios=not args.speedrun))
    torch_row = next((r for r in results if r["name"] == TORCH_ROW), None)
    if torch_row:
        for r in results:
            if r is not torch_row and r["name"] != results[0]["name"]:
                r["vs_torch_process"] = torch_row["process_seconds"] / r["process_seconds"]
                r["vs_torch_epoch"] = torch_row["epoch_seconds"] / r["epoch_seconds"]
                print(f"{r['name']} against PyTorch: {r['vs_torch_process']:.2f}x the whole process, "
                      f"{r['vs_torch_epoch']:.2f}x an epoch")
    for note in notes:
        print(note)
    report = {"epochs": args.epochs, "data_dir": str(args.data_dir), "quick": args.quick, "env": env_note,
              "results": results, "notes": notes}
    if not (args.speedrun or args.quick or args.all):
        report["floor"] = floor = measure_floor()
        print(floor_text(floor, results[0]))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
