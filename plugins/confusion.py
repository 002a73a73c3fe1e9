"""The confusion matrix: counts of (true digit, predicted digit) over the test set.

``report`` is the ``confusion`` metric's ``on_evaluation``: the worst class's
accuracy as a value, the matrix as terminal text, ``confusion.csv`` and a
``confusion.png`` heat map for the run directory.
"""

from __future__ import annotations

import io

import numpy as np

from mnistkit.specs import NUM_CLASSES, EvaluationOutputs, MetricReport


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int = NUM_CLASSES) -> np.ndarray:
    """``m[t, p]`` counts test images of digit ``t`` predicted as ``p``."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predicted)), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """The diagonal over each row's total: how often each digit is recognised (nan if absent)."""
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / np.maximum(totals, 1), np.nan)


def as_text(matrix: np.ndarray) -> str:
    """Rows are true digits, columns predictions; the per-class accuracy comes first."""
    accuracy = per_class_accuracy(matrix)
    width = max(4, len(str(matrix.max())) + 1)
    header = "true  accuracy " + "".join(f"{p:>{width}}" for p in range(len(matrix))) + "   (columns: predicted)"
    lines = [header]
    for t, row in enumerate(matrix):
        acc = "    -  " if np.isnan(accuracy[t]) else f"{accuracy[t]:7.2%}"
        lines.append(f"{t:>4}  {acc} " + "".join(f"{n:>{width}}" for n in row))
    return "\n".join(lines)


def as_csv(matrix: np.ndarray) -> bytes:
    accuracy = per_class_accuracy(matrix)
    lines = ["true," + ",".join(f"pred_{p}" for p in range(len(matrix))) + ",accuracy"]
    lines += [f"{t}," + ",".join(str(n) for n in row) + f",{accuracy[t]:.6f}" for t, row in enumerate(matrix)]
    return ("\n".join(lines) + "\n").encode()


def as_png(matrix: np.ndarray, title: str) -> bytes:
    """A heat map of row-normalised counts with each count written in its cell."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 5.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    classes = range(len(matrix))
    accuracy = per_class_accuracy(matrix)
    ax.set_xticks(list(classes))
    ax.set_yticks(list(classes), [f"{t} ({a:.1%})" if not np.isnan(a) else f"{t}" for t, a in enumerate(accuracy)])
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit (per-class accuracy)")
    ax.set_title(title)
    for t in classes:
        for p in classes:
            if matrix[t, p]:
                ax.text(p, t, str(matrix[t, p]), ha="center", va="center", fontsize=7,
                        color="white" if shares[t, p] > 0.5 else "black")
    figure.colorbar(image, ax=ax, label="share of the true digit's images")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def report(outputs: EvaluationOutputs) -> MetricReport:
    labels = np.asarray(outputs.labels)
    predicted = np.asarray(outputs.logits).argmax(axis=-1)
    matrix = confusion_matrix(labels, predicted)
    accuracy = per_class_accuracy(matrix)
    worst = int(np.nanargmin(accuracy))
    title = f"Confusion matrix after epoch {outputs.epoch} ({len(labels):,} test images)"
    text = f"{title}; hardest digit: {worst} ({accuracy[worst]:.2%})\n{as_text(matrix)}"
    return MetricReport(
        values={"min_class_accuracy": float(accuracy[worst])},
        text=text,
        artifacts={"confusion.png": as_png(matrix, title), "confusion.csv": as_csv(matrix)},
    )
