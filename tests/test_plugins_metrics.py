"""The builtin metric plugins compute what their lessons say."""

import jax.numpy as jnp
import numpy as np
import pytest
from mnistkit_plugins import confusion
from mnistkit_plugins.calibration import expected_calibration_error
from mnistkit_plugins.metrics import top2_correct

from mnistkit.specs import EvaluationOutputs


def outputs(labels, predicted, epoch=3):
    logits = np.full((len(labels), 10), -1.0, np.float32)
    logits[np.arange(len(labels)), predicted] = 1.0
    return EvaluationOutputs(epoch, logits, np.asarray(labels))


def test_confusion_counts_true_rows_against_predicted_columns():
    matrix = confusion.confusion_matrix(np.array([4, 4, 4, 9]), np.array([4, 9, 9, 9]))
    assert matrix[4, 4] == 1 and matrix[4, 9] == 2 and matrix[9, 9] == 1 and matrix.sum() == 4
    accuracy = confusion.per_class_accuracy(matrix)
    assert accuracy[4] == pytest.approx(1 / 3) and accuracy[9] == 1.0 and np.isnan(accuracy[0])


def test_confusion_report_names_the_hardest_digit_and_writes_a_png_and_a_csv():
    report = confusion.report(outputs([1, 1, 7, 7, 7, 7], [1, 1, 7, 1, 1, 7]))
    assert report.values == {"min_class_accuracy": 0.5}
    assert "after epoch 3 (6 test images); hardest digit: 7 (50.00%)" in report.text
    row7 = next(line for line in report.text.splitlines() if line.startswith("   7"))
    assert row7.split()[1:4] == ["50.00%", "0", "2"]
    assert report.artifacts["confusion.png"].startswith(b"\x89PNG")
    assert report.artifacts["confusion.csv"].decode().splitlines()[8] == "7,0,2,0,0,0,0,0,2,0,0,0.500000"


def test_ece_is_zero_for_a_calibrated_model_and_the_confidence_gap_otherwise():
    labels = np.zeros(4, int)
    sure_and_right = np.where(np.arange(10) == 0, 20.0, 0.0)[None].repeat(4, 0)
    ece, _ = expected_calibration_error(sure_and_right, labels)
    assert ece == pytest.approx(0.0, abs=1e-6)
    sure_and_half_wrong = sure_and_right.copy()
    sure_and_half_wrong[:2] = np.roll(sure_and_right[:2], 1, axis=1)
    ece, rows = expected_calibration_error(sure_and_half_wrong, labels)
    assert ece == pytest.approx(0.5, abs=1e-6) and [row[2] for row in rows] == [4]


def test_top2_counts_the_runner_up_as_right():
    logits = jnp.array([[0.0, 3.0, 2.0, 1.0, 0, 0, 0, 0, 0, 0]] * 4)
    assert top2_correct(logits, jnp.array([1, 2, 3, 0])).tolist() == [1.0, 1.0, 0.0, 0.0]
