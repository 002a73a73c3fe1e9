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
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--only", "default", "--json", str(out)],
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
