"""PNG pictures: curves and the digit grid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mnistkit.report.plots import plot_curves, plot_predictions

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def history(epochs: int) -> list[dict[str, float]]:
    return [
        {
            "epoch": e,
            "train_loss": 1 / e,
            "train_accuracy": 1 - 0.1 / e,
            "test_loss": 1.1 / e,
            "test_accuracy": 1 - 0.12 / e,
            "seconds": 2.0,
        }
        for e in range(1, epochs + 1)
    ]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_importing_plots_does_not_import_matplotlib() -> None:
    code = "import sys, mnistkit.report.plots; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("epochs", [1, 5])
def test_plot_curves_writes_a_png(tmp_path: Path, epochs: int) -> None:
    path = tmp_path / "curves.png"
    plot_curves(history(epochs), path)
    width, height = png_size(path)
    assert width > height > 100
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


def test_plot_curves_adds_a_panel_per_plugin_metric(tmp_path: Path) -> None:
    rows = [dict(row, train_top3=0.9, test_top3=0.8) for row in history(2)]
    plot_curves(history(2), tmp_path / "two.png")
    plot_curves(rows, tmp_path / "three.png")
    assert png_size(tmp_path / "three.png")[0] > png_size(tmp_path / "two.png")[0]


def test_plot_curves_rejects_an_empty_history(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no epochs"):
        plot_curves([], tmp_path / "curves.png")
    assert not (tmp_path / "curves.png").exists()


def test_plot_predictions_writes_a_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(25, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=25)
    predicted = labels.copy()
    predicted[0] = (labels[0] + 1) % 10
    path = tmp_path / "predictions.png"
    plot_predictions(images, labels, predicted, path)
    width, height = png_size(path)
    assert width > 300 and height > 300


def test_prediction_grid_shows_each_digit_in_its_cell_and_a_red_caption_only_for_a_wrong_guess(tmp_path: Path) -> None:
    from PIL import Image

    images = np.zeros((25, 28, 28), np.uint8)
    images[7] = 255  # a solid square in row 1, column 2
    labels = np.arange(25) % 10
    predicted = labels.copy()
    predicted[12] = (labels[12] + 1) % 10  # row 2, column 2
    plot_predictions(images, labels, predicted, tmp_path / "p.png")
    pixels = np.asarray(Image.open(tmp_path / "p.png").convert("RGB"), dtype=np.int16)
    cell_h, cell_w = pixels.shape[0] // 5, pixels.shape[1] // 5

    def cell(index: int) -> np.ndarray:
        row, column = divmod(index, 5)
        return pixels[row * cell_h : (row + 1) * cell_h, column * cell_w : (column + 1) * cell_w]

    def digit_area(index: int) -> np.ndarray:
        return cell(index)[cell_h // 2 - 10 : cell_h // 2 + 30, cell_w // 2 - 20 : cell_w // 2 + 20]

    assert digit_area(7).mean() < 40  # the solid digit is drawn dark where it belongs
    assert digit_area(6).mean() > 250 and digit_area(8).mean() > 250  # its neighbours are blank digits
    red = (pixels[..., 0] > 180) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)
    rows, columns = np.nonzero(red)
    assert len(rows) > 20
    assert set(rows // cell_h) == {2} and set(columns // cell_w) == {2}  # only the wrong guess's caption is red
    assert rows.max() % cell_h < cell_h // 3  # the caption sits above its digit


def test_plot_predictions_accepts_fewer_digits_and_float_images(tmp_path: Path) -> None:
    images = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    plot_predictions(images, [1, 2, 3], [1, 2, 4], tmp_path / "p.png")
    assert png_size(tmp_path / "p.png")[0] > 100
    wide = np.random.default_rng(1).random((3, 20, 36), dtype=np.float32)  # digits of another size keep their shape
    plot_predictions(wide, [1, 2, 3], [1, 2, 4], tmp_path / "wide.png")
    width, height = png_size(tmp_path / "wide.png")
    assert width / height == pytest.approx(3 * (36 + 12) / (20 + 16), rel=0.02)


def test_plot_predictions_rejects_mismatched_lengths(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="one label and one prediction per image"):
        plot_predictions(np.zeros((2, 28, 28), np.uint8), [1], [1, 2], tmp_path / "p.png")


def test_failed_save_raises_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    in_the_way = tmp_path / "curves.png"
    in_the_way.mkdir()
    with pytest.raises(OSError):
        plot_curves(history(2), in_the_way)
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]
    assert in_the_way.is_dir()
