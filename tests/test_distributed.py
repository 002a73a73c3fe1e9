"""Several processes, one run: `mnistkit run --distributed` on this machine.

Two processes with two simulated CPU devices each (gloo collectives over
localhost) train like one process with four devices, and only process 0
writes. The two processes and the one-process run start once for the module.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.test_engine import bars

RUN = ["--data", "idx", "--model", "mlp", "--batch-size", "32", "--epochs", "1", "--seed", "0", "--metric", "ece"]
"""ece reads every test image's logits on the host: they must come back from the processes' mesh too."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_bars(directory: Path, n_train: int = 512, n_test: int = 100) -> Path:
    """Small learnable digits (``test_engine.bars``) as the four IDX files."""
    from mnistkit.data import files

    return files.write_dir(directory, *bars(n_train, 0), *bars(n_test, 1))


def environment(home: Path, devices: int) -> dict[str, str]:
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu",
               MNISTKIT_HOME=str(home), TFDS_DATA_DIR=str(home / "tfds"), MNISTKIT_OFFLINE="1")
    for name in ("MNISTKIT_DATA_DIR", "MNISTKIT_PLUGINS", "MNISTKIT_DISABLE_PLUGINS", "JAX_COORDINATOR_ADDRESS"):
        env.pop(name, None)
    return env


def mnistkit(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mnistkit", "run", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: float = 180) -> SimpleNamespace:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"mnistkit did not finish in {timeout} s; its stderr ends with:\n{err[-3000:]}")
    return SimpleNamespace(code=proc.returncode, out=out, err=err)


GLOO_NOTE = re.compile(r"(\[Gloo\] )?((Rank )?\d+ is connected to \d+ peer ranks\..*|Expected number of connected peer ranks is : \d+)")
"""gloo's connection notes, which its C++ side writes to stderr, now and then split from their "[Gloo] Rank" prefix."""


def error_lines(err: str) -> list[str]:
    """stderr without gloo's connection notes."""
    return [line for line in err.splitlines()
            if line.strip() and not line.startswith("[Gloo]") and not GLOO_NOTE.fullmatch(line.strip())]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> SimpleNamespace:
    """The same run as two processes of two devices each (with --json) and as one process of four."""
    root = tmp_path_factory.mktemp("distributed")
    data = write_bars(root / "bars")
    common = [*RUN, "--data-dir", str(data)]
    coordinator = f"127.0.0.1:{free_port()}"
    env = environment(root / "home", devices=2)
    processes = [
        mnistkit(*common, "--json", "--out", str(root / f"out{i}"), "--coordinator", coordinator,
                 "--num-processes", "2", "--process-id", str(i), "--join-timeout", "90", env=env, cwd=root)
        for i in (0, 1)
    ]
    results = [finish(proc) for proc in processes]
    single = finish(mnistkit(*common, "--out", str(root / "single"), env=environment(root / "home1", devices=4),
                             cwd=root))
    for result in (*results, single):
        assert result.code == 0, result.err[-3000:]
    return SimpleNamespace(root=root, process=results, single=single)


def only_run_dir(out: Path) -> Path:
    dirs = list(out.iterdir())
    assert len(dirs) == 1, dirs
    return dirs[0]


def trained_params(run_dir: Path) -> list[np.ndarray]:
    import jax
    from flax import nnx

    from mnistkit.host.loading import load_registry
    from mnistkit.runs.trained import load_trained

    model = load_trained(run_dir, load_registry([], [])).model
    return [np.asarray(leaf) for leaf in jax.tree.leaves(nnx.state(model, nnx.Param))]


def test_two_processes_of_two_devices_train_to_the_parameters_of_one_process_of_four(runs):
    together = trained_params(only_run_dir(runs.root / "out0"))
    alone = trained_params(only_run_dir(runs.root / "single"))
    assert [p.shape for p in together] == [p.shape for p in alone]
    for a, b in zip(together, alone, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_two_processes_record_the_history_of_one_process_of_four(runs):
    together = json.loads((only_run_dir(runs.root / "out0") / "metrics.json").read_text())
    alone = json.loads((only_run_dir(runs.root / "single") / "metrics.json").read_text())
    assert together["status"] == alone["status"] == "completed"
    (row,), (expected,) = together["history"], alone["history"]
    for key in ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "test_ece"):
        assert row[key] == pytest.approx(expected[key], abs=1e-4), key
    run = json.loads((only_run_dir(runs.root / "out0") / "run.json").read_text())
    assert len(run["devices"]) == 4  # each process has two: the mesh spanned both


def test_only_process_0_prints_and_writes(runs):
    assert not (runs.root / "out1").exists()
    first, second = runs.process
    events = [json.loads(line) for line in first.out.splitlines()]
    assert events[0]["event"] == "Schema" and events[-1]["event"] == "Finished"
    assert second.out == ""
    assert error_lines(second.err) == ["Process 1 of 2: training in step with process 0, which prints and writes the run"]


def start_two(tmp_path: Path, extra: tuple[list[str], list[str]]) -> list[SimpleNamespace]:
    """Two processes on the bars data; ``extra[i]`` goes to process i only."""
    data = write_bars(tmp_path / "bars", n_train=64, n_test=20)
    coordinator, env = f"127.0.0.1:{free_port()}", environment(tmp_path / "home", devices=1)
    processes = [
        mnistkit(*RUN, "--data-dir", str(data), "--out", str(tmp_path / "runs"), "--coordinator", coordinator,
                 "--num-processes", "2", "--process-id", str(i), "--join-timeout", "60", *extra[i], env=env, cwd=tmp_path)
        for i in (0, 1)
    ]
    return [finish(proc, timeout=120) for proc in processes]


def test_processes_with_different_settings_all_stop_with_one_error_line(tmp_path):
    results = start_two(tmp_path, ([], ["--seed", "1"]))
    for result in results:
        assert result.code == 2
        (line,) = error_lines(result.err)
        assert line == ("mnistkit: error: process 1 has other settings or data than process 0; start every process "
                        "with the same options, plugins and data (each loads its own copy)")
    assert not (tmp_path / "runs").exists()


def test_a_process_that_fails_its_setup_stops_the_others(tmp_path):
    first, second = start_two(tmp_path, ([], ["--model", "transformer"]))
    assert second.code == first.code == 2
    assert "unknown model 'transformer'" in error_lines(second.err)[-1]
    assert error_lines(first.err) == ["mnistkit: error: process 1 could not start (its own output says why); no process trains"]
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("process_id", "expected"),
    [
        ("1", "mnistkit: error: cannot reach the coordinator 127.0.0.1:"),  # nobody listens on the port
        ("0", "not all 2 processes joined the coordinator"),  # process 0 waits for a process 1 that never comes
    ],
)
def test_a_process_that_cannot_join_gives_one_error_line_and_exit_2(process_id, expected, tmp_path):
    proc = mnistkit("--coordinator", f"127.0.0.1:{free_port()}", "--num-processes", "2", "--process-id", process_id,
                    "--join-timeout", "2", "--out", str(tmp_path / "runs"),
                    env=environment(tmp_path / "home", devices=1), cwd=tmp_path)
    result = finish(proc, timeout=60)
    assert result.code == 2
    (line,) = error_lines(result.err)
    assert expected in line and "within 2 s" in line
    assert not (tmp_path / "runs").exists()
