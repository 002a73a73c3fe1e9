"""``mnistkit predict`` and ``mnistkit evaluate``: what a trained run's checkpoint does."""

from __future__ import annotations

import argparse
from pathlib import Path

from mnistkit.cli import common


def add_to(commands) -> None:
    predict = commands.add_parser("predict", help="show a trained run's guesses on test digits or on your own digit",
                                  description="Load a run's newest checkpoint and show its guesses: a grid of test digits (terminal and PNG), or the probabilities for one digit image of yours.")
    predict.add_argument("--run", required=True, metavar="RUN_DIR", help="run folder made by `mnistkit run`")
    predict.add_argument("--image", metavar="PATH", help="a PNG (or other image) or .npy digit of any size; scaled and centred like MNIST")
    predict.add_argument("--count", type=common.positive_int, default=25, help="test digits in the grid (default: 25; the PNG shows up to 25)")
    predict.add_argument("--out", metavar="PNG", help="where to write the grid (default: RUN_DIR/predict.png)")
    predict.add_argument("--data-dir", default=None, help="where the run's IDX data is now, if it moved")
    predict.add_argument("--json", action="store_true", help="print JSON")
    common.add_plugin_options(predict)
    predict.set_defaults(handler=cmd_predict)

    evaluate = commands.add_parser("evaluate", help="recompute a trained run's test metrics from its checkpoint",
                                   description="Load a run's newest checkpoint, score every test image of the run's data again and compare with the run's history.")
    evaluate.add_argument("--run", required=True, metavar="RUN_DIR", help="run folder made by `mnistkit run`")
    evaluate.add_argument("--data-dir", default=None, help="where the run's IDX data is now, if it moved")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    common.add_plugin_options(evaluate)
    evaluate.set_defaults(handler=cmd_evaluate)


def _load_trained(args: argparse.Namespace):
    """The run's model from its newest checkpoint, and the data it trained on."""
    from dataclasses import replace

    from mnistkit.host.loading import load_registry
    from mnistkit.runs.resume import load_run_data
    from mnistkit.runs.trained import load_trained

    err = common.console(stderr=True)
    registry = load_registry(args.plugin, args.disable_plugin)
    common.report_problems(registry, args.verbose)
    with registry.blame():
        trained = load_trained(Path(args.run), registry, notify=lambda msg: err.print(f"[yellow]{msg}[/]"))
    if getattr(args, "image", None):
        return trained, None
    config = replace(trained.config, data_dir=args.data_dir or trained.config.data_dir)
    return trained, load_run_data(trained.meta, config, notify=lambda msg: err.print(f"[yellow]{msg}[/]"))


def cmd_predict(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from mnistkit.errors import OutputError
    from mnistkit.report.digits import digit_lines, prediction_grid
    from mnistkit.report.plots import plot_predictions
    from mnistkit.runs.trained import load_digit, probabilities

    trained, data = _load_trained(args)
    console = common.console()
    if args.image:
        digit = load_digit(Path(args.image))
        probs = probabilities(trained.model, digit[None])[0]
        best = int(probs.argmax())
        if args.json:
            print(json.dumps({"image": args.image, "digit": best, "probabilities": [float(p) for p in probs]}))
            return 0
        console.print("\n".join(digit_lines(digit)), markup=False)
        console.print(f"Predicted digit: [bold]{best}[/] ({probs[best]:.1%}), by {trained.config.model} {trained.where}")
        for digit_class, p in enumerate(probs):
            console.print(f"  {digit_class}  {p:6.1%}  {'█' * round(30 * float(p))}")
        return 0
    count = min(args.count, len(data.test_images))
    images, labels = data.test_images[:count], np.asarray(data.test_labels[:count])
    predicted = probabilities(trained.model, images).argmax(axis=-1)
    out = Path(args.out) if args.out else trained.run_dir / "predict.png"
    try:
        plot_predictions(images, labels, predicted, out)
    except OSError as err:
        raise OutputError(f"cannot write {out}: {err.strerror or err}; choose another --out") from err
    wrong = int((predicted != labels).sum())
    if args.json:
        print(json.dumps({"run": str(trained.run_dir), "labels": labels.tolist(), "predicted": predicted.tolist(),
                          "wrong": wrong, "png": str(out)}))
        return 0
    console.print(f"{trained.config.model} {trained.where}, on the first {count} test digits ({wrong} wrong):")
    console.print(prediction_grid(images, labels, predicted))
    console.print(f"Saved the grid in {out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from rich.table import Table

    from mnistkit.runs.trained import evaluate

    trained, data = _load_trained(args)
    test = evaluate(trained, data)
    snapshot = trained.snapshot
    # The history's last row is this checkpoint's evaluation after a whole
    # epoch (step 0 of the next), or after a finished part epoch (its step).
    evaluated = snapshot.epoch - 1 if snapshot.step == 0 else snapshot.epoch
    row = snapshot.history[-1] if snapshot.history and snapshot.history[-1].get("epoch") == evaluated else None
    recorded = {key: row.get(f"test_{key}") for key in test} if row else None
    if args.json:
        print(json.dumps({"run": str(trained.run_dir), "epoch": row["epoch"] if row else None,
                          "step": snapshot.step, "test": test, "history": recorded}))
        return 0
    console = common.console()
    console.print(f"{trained.config.model} {trained.where}, on {data.description}:")
    table = Table("metric", "recomputed", f"history (epoch {row['epoch']})" if row else "history")
    for key, value in test.items():
        then = recorded.get(key) if recorded else None
        table.add_row(f"test {key}", f"{value:.6f}", "" if then is None else f"{then:.6f}")
    console.print(table)
    if row is None:
        console.print("The checkpoint is from the middle of an epoch, so the history has no row for it.")
    return 0
