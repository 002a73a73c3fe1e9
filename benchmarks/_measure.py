"""Run a module or script as ``python -m``/``python path`` would, then report its peak memory.

Usage: ``python benchmarks/_measure.py (-m MODULE | SCRIPT) ARGS...``. On exit
it prints ``BENCH_PEAK_RSS_MB=<n>`` on stderr, so the benchmark can read each
child process's own peak resident memory.
"""

import atexit
import resource
import runpy
import sys


def report_peak_memory() -> None:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"BENCH_PEAK_RSS_MB={rss:.0f}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    # An exit handler, not a ``finally``: ``mnistkit``'s command runs the exit
    # handlers and then ends its process at once (``os._exit``).
    atexit.register(report_peak_memory)
    target = sys.argv[1:]
    if target[0] == "-m":
        sys.argv = [target[1], *target[2:]]
        runpy.run_module(target[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = target
        runpy.run_path(target[0], run_name="__main__")
