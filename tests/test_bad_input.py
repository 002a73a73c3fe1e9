"""Every user mistake gets one line naming the problem and what to do, exit code 2, and nothing written."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from mnistkit.cli import main
from mnistkit.data import files


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    """The inputs the cases point at: tiny IDX data, a finished run, broken images, a plain file."""
    root = tmp_path_factory.mktemp("bad-input")
    os.environ.setdefault("MNISTKIT_OFFLINE", "1")
    rng = np.random.default_rng(0)
    idx = files.write_dir(root / "idx", rng.integers(0, 256, (200, 28, 28), dtype=np.uint8), np.arange(200) % 10,
                          rng.integers(0, 256, (40, 28, 28), dtype=np.uint8), np.arange(40) % 10)
    assert main(["run", "--data", "idx", "--data-dir", str(idx), "--model", "mlp", "--model-opt", "hidden=16",
                 "--batch-size", "50", "--epochs", "1", "--out", str(root / "runs")]) == 0
    (run,) = (root / "runs").iterdir()
    import json
    import shutil

    shutil.copytree(run, root / "edited")  # config.json edited to name another model than the checkpoints hold
    config = json.loads((root / "edited" / "config.json").read_text())
    (root / "edited" / "config.json").write_text(json.dumps({**config, "model": "cnn"}))
    (root / "empty.npy").write_bytes(b"")
    np.save(root / "complex.npy", np.ones((28, 28), dtype=np.complex64))
    from PIL import Image

    Image.fromarray(np.zeros((4100, 10), dtype=np.uint8)).save(root / "tall.png")
    (root / "bomb.png").write_bytes(_png_header(20000, 20000))
    (root / "text.png").write_text("not an image")
    (root / "a-file").write_text("a file, not a folder")
    swapped = files.write_dir(root / "swapped", rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), np.arange(20) % 10,
                              rng.integers(0, 256, (10, 28, 28), dtype=np.uint8), np.arange(10) % 10)
    images, labels = swapped / "train-images-idx3-ubyte.gz", swapped / "train-labels-idx1-ubyte.gz"
    images.rename(swapped / "tmp")
    labels.rename(images)
    (swapped / "tmp").rename(labels)
    looped = shutil.copytree(idx, root / "looped")
    (looped / "train-images-idx3-ubyte.gz").unlink()
    (looped / "train-images-idx3-ubyte.gz").symlink_to("train-images-idx3-ubyte.gz")  # a link to itself
    return {"root": root, "idx": idx, "run": run}


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels, with no pixels behind it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b""))


RUN = ["run", "--data", "sample", "--model", "mlp", "--epochs", "0.05"]
CASES = [
    # argparse: the number or the choice itself is wrong
    (["run", "--epochs", "0"], "--epochs: must be above 0"),
    (["run", "--epochs", "two"], "expected a number of epochs"),
    (["run", "--epochs", "-1"], "--epochs: must be above 0"),
    (["run", "--batch-size", "0"], "--batch-size: must be at least 1"),
    (["run", "--learning-rate", "nan"], "--learning-rate: must be a positive number"),
    (["run", "--learning-rate", "0"], "--learning-rate: must be a positive number"),
    (["run", "--dtype", "float8"], "invalid choice: 'float8'"),
    (["run", "--data", "floppy"], "invalid choice: 'floppy'"),
    (["run", "--seed", "99999999999999999999999"], "--seed: must be from 0 to 4294967295"),
    (["run", "--seed", "-1"], "--seed: must be from 0 to 4294967295"),
    (["run", "--engine", "turbo"], "invalid choice: 'turbo'"),
    (["run", "--schedule", "linear"], "invalid choice: 'linear'"),
    (["run", "--devices", "0"], "--devices: must be at least 1"),
    (["run", "--steps-per-dispatch", "0"], "--steps-per-dispatch: must be at least 1"),
    (["lesson", "run", "data", "--epochs", "0"], "--epochs: must be above 0"),
    (["predict", "--run", "{run}", "--count", "0"], "--count: must be at least 1"),
    # the run API: names, options, data and folders, checked before anything is written
    ([*RUN, "--model", "transformer"], "unknown model 'transformer'"),
    ([*RUN, "--optimizer", "sgdd"], "unknown optimizer 'sgdd'"),
    ([*RUN, "--metric", "nope"], "unknown metric 'nope'"),
    ([*RUN, "--model-opt", "hidden"], "--model-opt expects key=value"),
    ([*RUN, "--model-opt", "bogus=1"], "model 'mlp' has no option 'bogus'"),
    ([*RUN, "--model-opt", "hidden=abc"], "hidden"),
    ([*RUN, "--label-smoothing", "1.5"], "--label-smoothing must be at least 0 and below 1"),
    ([*RUN, "--recipe", "fastest"], "unknown recipe 'fastest'"),
    # a typo gets the close names
    ([*RUN, "--model", "cnnn"], "unknown model 'cnnn'; did you mean cnn"),
    ([*RUN, "--model", "mpl"], "did you mean mlp?"),
    ([*RUN, "--optimizer", "adamww"], "unknown optimizer 'adamww'; did you mean adamw"),
    ([*RUN, "--metric", "confusoin"], "unknown metric 'confusoin'; did you mean confusion"),
    ([*RUN, "--recipe", "speedrn"], "unknown recipe 'speedrn'; did you mean speedrun?"),
    (["run", "--resume", "{run}", "--epochs", "2", "--model", "mpl"], "unknown model 'mpl'; did you mean mlp?"),
    ([*RUN, "--batch-size", "999999"], "is larger than the 6,000 training images"),
    ([*RUN, "--epochs", "1.5", "--engine", "tutorial"], "--engine tutorial trains whole epochs only"),
    ([*RUN, "--dtype", "bfloat16", "--engine", "tutorial"], "--engine tutorial computes in float32 only"),
    ([*RUN, "--epochs", "1", "--engine", "tutorial", "--steps-per-dispatch", "4"], "runs one step per call"),
    ([*RUN, "--epochs", "1", "--engine", "tutorial", "--devices", "2"], "--engine tutorial trains on one device"),
    ([*RUN, "--devices", "64"], "--devices 64"),
    ([*RUN, "--out", "x" * 300], "File name too long"),
    ([*RUN, "--out", os.fsdecode(b"runs-\xff")], "is not valid UTF-8"),
    ([*RUN, "--out", "{root}/a-file"], "is not a writable folder"),
    (["run", "--data", "idx", "--data-dir", "/nonexistent-mnist"], "/nonexistent-mnist"),
    (["run", "--data", "sample", "--data-dir", "{idx}"], "cannot go with data source 'sample'"),
    # --resume: the folder, and options that contradict it
    (["run", "--resume", "{root}/no-such-run"], "does not exist"),
    (["run", "--resume", "{root}/a-file"], "is a file, not a run folder"),
    (["run", "--resume", "{run}", "--epochs", "2", "--seed", "5"], "--seed 5 does not match"),
    (["run", "--resume", "{run}", "--epochs", "2", "--model", "cnn"], "--model 'cnn' does not match"),
    (["run", "--resume", "{run}", "--epochs", "2", "--out", "elsewhere"], "--out cannot go with --resume"),
    (["run", "--resume", "{run}", "--epochs", "2", "--recipe", "speedrun"], "--recipe speedrun sets --model"),
    (["run", "--resume", "{run}"], "already finished its 1 epochs"),
    # predict and evaluate
    (["predict", "--run", "{root}/no-such-run"], "does not exist"),
    (["evaluate", "--run", "{root}/a-file"], "is a file, not a run folder"),
    (["evaluate", "--run", "{root}/edited"], "names model 'cnn' with option 'layers', which that model does not take"),
    (["predict", "--run", "{run}", "--image", "{root}/missing.png"], "no image at"),
    (["predict", "--run", "{run}", "--image", "{root}/empty.npy"], "is empty, not a numpy array"),
    (["predict", "--run", "{run}", "--image", "{root}/complex.npy"], "holds complex numbers"),
    (["predict", "--run", "{run}", "--image", "{root}/tall.png"], "is 4100x10 pixels; a digit image may be at most 4096x4096"),
    (["predict", "--run", "{run}", "--image", "{root}/bomb.png"], "is too large to read safely; a digit image may be at most 4096x4096"),
    (["predict", "--run", "{run}", "--image", "{root}/text.png"], "cannot read"),
    # lessons, plugins, data
    (["lesson", "show", "nope"], "no lesson 'nope'"),
    (["lesson", "run", "nope"], "no lesson 'nope'"),
    (["lesson", "show", "stak"], "did you mean stack?"),
    (["lesson", "run", "STAK"], "no lesson 'STAK'; did you mean stack?"),
    (["plugin", "new", "Bad_Name", "--dir", "{root}"], "must be lowercase letters and digits"),
    (["plugin", "new", "plugins", "--dir", "{root}"], "clashes with mnistkit's own mnistkit_plugins"),
    (["data", "import", "{root}/no-such-folder"], "no-such-folder"),
    (["data", "import", "{root}/swapped"], "is an IDX labels file, but MNIST images are needed"),
    ([*RUN, "--data", "idx", "--data-dir", "{root}/swapped"], "is an IDX labels file, but MNIST images are needed"),
    (["data", "import", "{root}/looped"], "Too many levels of symbolic links"),
    ([*RUN, "--data", "idx", "--data-dir", "{root}/looped"], "Too many levels of symbolic links"),
]


def tree(root: Path) -> dict[str, int]:
    """Every file under ``root`` with its size, but for mnistkit's home and run locks."""
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*")
            if p.is_file() and "home" not in p.relative_to(root).parts and p.name != ".lock"}


@pytest.mark.parametrize(("args", "expected"), CASES, ids=[" ".join(args)[:60] for args, _ in CASES])
def test_a_mistake_is_one_line_and_exit_2_and_writes_nothing(world, args, expected, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("MNISTKIT_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    args = [arg.format(**world) for arg in args]
    before, here = tree(world["root"]), tree(tmp_path)
    try:
        code = main(args)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1 and expected in err[0], err
    assert "Traceback" not in err[0]
    assert tree(world["root"]) == before and tree(tmp_path) == here



def test_case_alone_never_chooses_between_two_names_that_differ_only_in_case():
    from mnistkit.errors import match_name

    assert match_name("CNN", ["cnn", "mlp"]) == "cnn"
    assert match_name("net", ["Net", "net"]) == "net" and match_name("NET", ["Net", "net"]) is None
    assert match_name("rnn", ["cnn", "mlp"]) is None


def test_the_suggestion_names_up_to_three_close_names_or_nothing():
    from mnistkit.errors import did_you_mean, unknown_name

    assert did_you_mean("adamww", ["adam", "adamw", "sgd"]) == "did you mean adamw or adam?"
    assert did_you_mean("transformer", ["cnn", "mlp"]) == ""
    assert str(unknown_name("optimizer", "rmsprop", ["sgd", "adam"], "`mnistkit plugins`")) == (
        "unknown optimizer 'rmsprop' (known optimizers: adam, sgd; see `mnistkit plugins`)")
