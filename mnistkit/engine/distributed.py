"""Several processes, one run: what ``mnistkit run --distributed`` adds.

Every process runs the same command on the same data. ``initialize`` joins
them through ``jax.distributed``; the engine's mesh then spans the devices of
every process, and XLA's collectives (gloo on CPU, NCCL on GPU) keep the
replicated parameters equal. Process 0 is the primary: it alone prints,
writes the run folder and saves checkpoints; the others train in step with it.

A collective waits until every process takes part, so the processes must run
the same JAX computations in the same order. Three rules follow:

- setup problems are announced, not kept: ``together`` and
  ``start_together`` make every process learn, at one meeting point before
  training, whether all of them got that far with the same settings and data;
- the decision to stop early is taken together (``agreed``);
- everything else in a run is the same code on every process; only what is
  done with the results (printing, writing) differs.

What cannot be made clean: once training has begun, a process that ends
alone (an error only it meets, a crash, a kill, a second Ctrl-C) cannot tell
the others, who wait inside a collective. It leaves at once (``together``),
and ``jax.distributed`` ends the others, with a stack trace of its own, when
the coordination service in process 0 goes away or, for another process,
when its heartbeats stop (``HEARTBEAT_SECONDS``).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import jax
import numpy as np

from mnistkit import environment
from mnistkit.errors import ConfigError

JOIN_TIMEOUT = 120
"""Default seconds a process waits for the coordinator and for every process to join."""
HEARTBEAT_SECONDS = 30
"""After this long without news from a process, ``jax.distributed`` ends the others."""
SHUTDOWN_SECONDS = 60
"""How long a finished process waits at exit for the others to finish too (process 0 still writes plots)."""
LEAVE_GRACE_SECONDS = 2
"""How much later than the others process 0 leaves after an error (see ``together``)."""
STOP_CHECK_EVERY = 10
"""``agreed`` asks the other processes once every this many calls (a collective costs about 2 ms on CPU)."""

_meeting = "ahead"
"""Where this process stands with ``start_together``'s meeting point: "ahead", "failed" or "passed"."""


def initialize(coordinator: str | None = None, num_processes: int | None = None, process_id: int | None = None,
               join_timeout: float = JOIN_TIMEOUT) -> None:
    """Join this process to the others with ``jax.distributed.initialize``; call before any JAX computation.

    Arguments left None come from the environment, as jax detects it: SLURM,
    Open MPI, Cloud TPU, Kubernetes, and ``JAX_COORDINATOR_ADDRESS`` for the
    coordinator. Raises ``ConfigError`` when they are incomplete or invalid,
    and when the coordinator cannot be reached within ``join_timeout``
    seconds. When the coordinator answers but not every process joins in
    time, jax would abort the process with a stack trace; instead this
    prints one ``mnistkit: error:`` line and exits with code 2.
    """
    if jax.distributed.is_initialized():
        return
    if num_processes is not None and num_processes < 1:
        raise ConfigError(f"--num-processes must be at least 1, got {num_processes}")
    if process_id is not None and num_processes is not None and not 0 <= process_id < num_processes:
        raise ConfigError(f"--process-id must be from 0 to {num_processes - 1} for {num_processes} processes, got {process_id}")
    address = coordinator or environment.coordinator_address()
    if address is not None:
        host, port = _host_port(address)
        if process_id not in (None, 0):
            _wait_for_coordinator(host, port, join_timeout)
    # Cross-process collectives on the CPU need an implementation; jax 0.10
    # defaults to gloo, but a config or environment may have cleared it.
    if getattr(jax.config, "jax_cpu_collectives_implementation", "gloo") is None:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    where = f" at {address}" if address else ""
    who = f"process {process_id}" if process_id is not None else "this process"
    watchdog = threading.Timer(join_timeout, _give_up, [(
        f"not all {num_processes or 'the'} processes joined the coordinator{where} within {join_timeout:g} s "
        f"(this is {who}); start every process with the same --coordinator and --num-processes and its own "
        "--process-id, or raise --join-timeout"
    )])
    watchdog.daemon = True
    watchdog.start()
    try:
        # jax's own deadline comes later than the watchdog: reaching it aborts the process.
        jax.distributed.initialize(address, num_processes, process_id,
                                   initialization_timeout=int(join_timeout) + 60,
                                   heartbeat_timeout_seconds=HEARTBEAT_SECONDS,
                                   shutdown_timeout_seconds=SHUTDOWN_SECONDS)
    except (ValueError, TypeError, RuntimeError) as err:
        raise ConfigError(
            f"--distributed: {_first_line(err)}; give --coordinator HOST:PORT, --num-processes N and "
            "--process-id I, or start the processes with SLURM or Open MPI"
        ) from None
    finally:
        watchdog.cancel()


def native_stdout_to_stderr() -> None:
    """Send what native code prints to standard output to standard error; Python keeps the real one.

    gloo prints ``[Gloo] Rank 0 is connected to 1 peer ranks...`` on file
    descriptor 1 whenever it connects processes; this keeps such lines out of
    ``--json`` output, which must be one JSON object per line.
    """
    sys.stdout.flush()
    real = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = open(real, "w",  # noqa: SIM115 - it replaces sys.stdout for the rest of the process encoding=sys.stdout.encoding, errors=sys.stdout.errors,
                      buffering=1 if sys.stdout.line_buffering else -1)


def process_count() -> int:
    """How many processes train together: 1 unless ``initialize`` ran (it does not start JAX)."""
    return jax.process_count() if jax.distributed.is_initialized() else 1


def process_index() -> int:
    return jax.process_index() if jax.distributed.is_initialized() else 0


def is_primary() -> bool:
    """True in process 0, the one that prints and writes (and in a run of one process)."""
    return process_index() == 0


@contextmanager
def together(exit_code: Callable[[BaseException], int]) -> Iterator[None]:
    """Wrap this process's whole part of a run, so that however it ends, the others do not wait long.

    Ending before ``start_together`` (a setup error, say), it still comes
    to the meeting point, as failed, and every process stops with a
    ``ConfigError``. Ending with an exception after it, the others are
    inside a collective and cannot be told; this process then exits, once
    its error is reported, with ``exit_code(exception)`` and without jax's
    shutdown barrier (which would wait ``SHUTDOWN_SECONDS`` for them, then
    abort), and the others are ended by jax after ``HEARTBEAT_SECONDS``.
    """
    try:
        yield
    except BaseException as exc:
        if _meeting == "passed" and process_count() > 1:
            atexit.register(_leave, exit_code(exc))
        raise
    finally:
        if _meeting == "ahead" and process_count() > 1:
            try:
                _meet(None)
            except Exception:  # noqa: BLE001, S110 - the error on its way out matters more
                pass


def start_together(identity: Mapping[str, Any]) -> None:
    """The meeting point before training: every process is ready, with the same ``identity``.

    ``identity`` holds what must be the same everywhere (settings, a data
    fingerprint), as JSON-able values. Raises ``ConfigError`` in every
    process when one of them failed its setup or differs.
    """
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).digest()
    _meet(digest)


def _meet(digest: bytes | None) -> None:
    from jax.experimental import multihost_utils

    global _meeting
    _meeting = "failed"
    mine = np.zeros(3, np.int32) if digest is None else np.array(
        [1, *(int.from_bytes(digest[i:i + 4], "little") & 0x7FFFFFFF for i in (0, 4))], np.int32)
    everyone = np.asarray(multihost_utils.process_allgather(mine))
    failed = [i for i, row in enumerate(everyone) if not row[0]]
    if digest is None:
        return
    if failed:
        names = ", ".join(map(str, failed))
        raise ConfigError(f"process {names} could not start (its own output says why); no process trains")
    differ = [i for i, row in enumerate(everyone) if not np.array_equal(row, everyone[0])]
    if differ:
        raise ConfigError(
            f"process {', '.join(map(str, differ))} has other settings or data than process 0; "
            "start every process with the same options, plugins and data (each loads its own copy)"
        )
    _meeting = "passed"


def agreed(requested: Callable[[], bool], every: int = STOP_CHECK_EVERY) -> Callable[[], bool]:
    """``requested`` (this process was asked to stop), made one decision for all processes.

    Every ``every``-th call the processes compare notes, and all stop when
    any was asked to, at the same step. Every process must call the result
    equally often (the engine calls it once per dispatch). With one process
    it is ``requested`` itself.
    """
    if process_count() == 1:
        return requested
    from jax.experimental import multihost_utils

    calls = 0

    def should_stop() -> bool:
        nonlocal calls
        calls += 1
        if calls % every:
            return False
        votes = multihost_utils.process_allgather(np.int32(requested()))
        return bool(np.any(votes))

    return should_stop


def replicate(tree: Any, sharding: jax.sharding.Sharding) -> Any:
    """Every array of ``tree`` as a global array with ``sharding``, from this process's host copy.

    Each process must pass the same values; nothing checks it here
    (``start_together`` compared the data). Unlike ``jax.device_put`` this
    sends nothing between processes and also places typed PRNG keys.
    """

    def one(leaf):
        if jax.dtypes.issubdtype(getattr(leaf, "dtype", np.float32), jax.dtypes.prng_key):
            return jax.random.wrap_key_data(one(jax.random.key_data(leaf)), impl=jax.random.key_impl(leaf))
        host = np.asarray(leaf)
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree.map(one, tree)


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--coordinator {address!r}: expected HOST:PORT, e.g. 10.0.0.1:12355")
    return host.strip("[]"), int(port)


def _wait_for_coordinator(host: str, port: int, timeout: float) -> None:
    """Return once something listens at ``host:port``; ``ConfigError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=min(2.0, timeout)).close()
            return
        except socket.gaierror:
            raise ConfigError(f"--coordinator {host}:{port}: unknown host {host!r}") from None
        except OSError as err:
            if time.monotonic() >= deadline:
                raise ConfigError(
                    f"cannot reach the coordinator {host}:{port} within {timeout:g} s ({err.strerror or err}); "
                    "start process 0 there first with the same --coordinator, check the address and that the port is open"
                ) from None
        time.sleep(0.25)


def _give_up(message: str) -> None:
    print(f"mnistkit: error: {message}", file=sys.stderr, flush=True)
    os._exit(2)


def _leave(code: int) -> None:
    """At exit, before jax's own handler: end the process without the shutdown barrier.

    Process 0 hosts the coordination service, and the others abort with a
    stack trace once it is gone; it leaves a moment later, so that when they
    fail alike (a setting every process rejects), they end cleanly first.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    if is_primary():
        time.sleep(LEAVE_GRACE_SECONDS)
    os._exit(code)


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(err).__name__
