"""The benchmark's smoke mode runs end to end, and its arithmetic floor is the CNN's real cost."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmark_prints_a_table_and_json_with_ratios(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--only", "default", "--json", str(out),
         "--torch-python", "none"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "tutorial baseline (port)" in result.stdout and "x epoch" in result.stdout
    report = json.loads(out.read_text())
    names = [row["name"] for row in report["results"]]
    assert names == ["tutorial baseline (port)", "mnistkit (default)", "mnistkit default, bfloat16"]
    for row in report["results"]:
        assert row["backend"] == "cpu" and row["images_per_sec"] > 0 and 0.5 < row["final_accuracy"] <= 1
        assert 0 < row["first_step_seconds"] < row["process_seconds"]
        assert 0 < row["overhead_seconds"] < row["process_seconds"]
        assert row["peak_rss_mb"] > 50  # measured for mnistkit too, though its command ends its process at once
    assert report["results"][1]["after_last_evaluation_seconds"] > 0
    assert "overhead" in result.stdout and "PyTorch row skipped" in result.stdout and report["notes"]


def test_the_pytorch_row_is_the_same_network_and_recipe(tmp_path):
    """Run only where an interpreter with torch exists (torch is never a dependency of mnistkit)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    python = run.torch_python(None)
    if python is None:
        pytest.skip("no interpreter with torch here (.venv-torch or torch in this one)")
    done = subprocess.run([python, str(ROOT / "benchmarks" / "torch_baseline.py"), "--data-dir",
                           str(ROOT / "mnistkit" / "sample"), "--epochs", "1"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert rows[-1]["summary"] and rows[-1]["steps_per_epoch"] == 6000 // 32
    assert rows[0]["test_accuracy"] > 0.9  # one epoch of the tutorial's recipe on the sample


def test_the_floor_counts_the_cnn_training_step_at_about_26_mflop_an_image():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import floor
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    numbers = floor.main()
    # Two 3x3 convolutions and two dense layers, forward and backward: about 26 MFLOP per image.
    assert 0.75 < numbers["train_step_gflop"] < 0.95
    assert numbers["peak_matmul_gflops"] > 1
    assert numbers["epoch_floor_seconds"] == pytest.approx(numbers["epoch_gflop"] / numbers["peak_matmul_gflops"])
