"""`mnistkit board`: TensorBoard on the runs folder, or one line saying how to install it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mnistkit.cli import main


@pytest.fixture
def runs(tmp_path):
    logs = tmp_path / "runs" / "20261201-120000-cnn" / "tensorboard"
    logs.mkdir(parents=True)
    (logs / "events.out.tfevents.1.host").write_bytes(b"")
    return tmp_path / "runs"


def one_error_line(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    return err[0]


def test_without_tensorboard_it_says_which_extra_to_install(runs, monkeypatch, capsys):
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None if name == "tensorboard" else object())
    assert main(["board", str(runs)]) == 2
    assert "pip install 'mnistkit[tensorboard]'" in one_error_line(capsys)


def test_a_folder_without_runs_is_one_line(tmp_path, capsys):
    assert main(["board", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder of runs" in one_error_line(capsys)
    assert main(["board", str(tmp_path)]) == 2
    assert "holds no TensorBoard logs yet" in one_error_line(capsys)


def test_it_serves_the_runs_folder_on_the_port_asked_for(runs, monkeypatch, capsys):
    started = []

    class Server:
        def __init__(self, command):
            started.append(command)

        def wait(self):
            return 0

    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: object())
    monkeypatch.setattr(subprocess, "Popen", Server)
    assert main(["board", str(runs), "--port", "7007"]) == 0
    assert started == [[sys.executable, "-m", "tensorboard.main", "--logdir", str(runs), "--port", "7007"]]
    assert "http://localhost:7007/" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        main(["board", str(runs), "--port", "70000"])
    assert refused.value.code == 2 and "a port is a number from 1 to 65535" in capsys.readouterr().err
