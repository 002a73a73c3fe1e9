"""How long the quick commands take, and whether they import the heavy stack.

    python benchmarks/startup.py [--repeat 7] [--json out.json] [--baseline DIR]

Each command runs as its own whole process (``python -m mnistkit ...``), one
after the other, ``--repeat`` times; the table shows the median and the
slowest wall time, the target (0.5 s), and which of JAX, Flax, optax, orbax
and TensorFlow the process imported (none should be). ``python -c pass``
runs first as the floor: what starting Python costs on this machine.

``--baseline DIR`` also times an earlier mnistkit, alternating with this one
run by run: DIR holds ``mnistkit``, ``mnistkit_plugins`` and
``mnistkit_lessons`` (for example links into a ``git worktree`` of an older
commit) and goes first on ``PYTHONPATH``. The table then gives its median
and the speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HEAVY = ("jax", "flax", "optax", "orbax", "tensorflow")
TARGET_SECONDS = 0.5
COMMANDS = (("--help",), ("plugins",), ("plugins", "--json"), ("lessons",), ("lessons", "--json"))
REPORT = ("import runpy, sys; sys.argv = ['mnistkit', *sys.argv[1:]]\n"
          "try:\n    runpy.run_module('mnistkit', run_name='__main__')\nexcept SystemExit:\n    pass\n"
          f"print('HEAVY=' + ','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))), file=sys.stderr)")


NEUTRAL = tempfile.mkdtemp(prefix="mnistkit-startup-")
"""Children run here, so ``python -m mnistkit`` finds the installed mnistkit (or the baseline), not a checkout's."""


def timed(argv: list[str], pythonpath: str | None = None) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": pythonpath} if pythonpath else None
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env, cwd=NEUTRAL)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return seconds, done.stderr


def measure(repeat: int, baseline: str | None = None) -> list[dict]:
    rows = []
    floor = [timed([sys.executable, "-c", "pass"])[0] for _ in range(repeat)]
    rows.append({"command": "python -c pass", "median_s": statistics.median(floor), "max_s": max(floor), "heavy": []})
    for command in COMMANDS:
        argv = [sys.executable, "-m", "mnistkit", *command]
        times, before = [], []
        for _ in range(repeat):  # alternate, so both see the same machine
            times.append(timed(argv)[0])
            if baseline:
                before.append(timed(argv, baseline)[0])
        _, stderr = timed([sys.executable, "-c", REPORT, *command])
        heavy = next((line[6:].split(",") for line in stderr.splitlines() if line.startswith("HEAVY=")), [])
        row = {"command": "mnistkit " + " ".join(command), "median_s": statistics.median(times), "max_s": max(times),
               "heavy": [name for name in heavy if name], "meets_target": statistics.median(times) < TARGET_SECONDS}
        if baseline:
            row["baseline_median_s"] = statistics.median(before)
            row["speedup"] = row["baseline_median_s"] / row["median_s"]
        rows.append(row)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    parser.add_argument("--baseline", default=None, help="folder with an earlier mnistkit to time alongside")
    args = parser.parse_args()
    rows = measure(args.repeat, args.baseline)
    extra = f" {'before s':>9} {'speed-up':>8}" if args.baseline else ""
    print(f"{'command':<26} {'median s':>9} {'max s':>7}{extra}  {'< 0.5 s':<8} heavy modules imported")
    for row in rows:
        target = "" if "meets_target" not in row else ("yes" if row["meets_target"] else "NO")
        compared = (f" {row['baseline_median_s']:>9.3f} {row['speedup']:>7.1f}x" if "speedup" in row
                    else (" " * 19 if args.baseline else ""))
        print(f"{row['command']:<26} {row['median_s']:>9.3f} {row['max_s']:>7.3f}{compared}  {target:<8} "
              f"{', '.join(row['heavy']) or 'none'}")
    text = json.dumps({"rows": rows, "repeat": args.repeat, "target_s": TARGET_SECONDS}, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
