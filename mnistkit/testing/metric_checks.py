"""The contract checks of a metric plugin: values in bounds, jit-able, deterministic, well-formed reports."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from mnistkit.specs import NUM_CLASSES, EvaluationOutputs, MetricReport, MetricSpec
from mnistkit.testing.common import Target, calling, require


def metric_inputs(n: int = 64, seed: int = 0):
    """Three cases: random logits, perfect logits, confidently wrong logits (numpy)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % NUM_CLASSES
    random = rng.normal(0, 3, (n, NUM_CLASSES)).astype(np.float32)
    perfect = np.full((n, NUM_CLASSES), -5.0, np.float32)
    perfect[np.arange(n), labels] = 5.0
    wrong = np.roll(perfect, 1, axis=1)
    return labels.astype(np.int32), {"random": random, "perfect": perfect, "wrong": wrong}


def _in_bounds(target: Target, what: str, values: np.ndarray) -> None:
    low, high = target.spec.bounds
    values = np.asarray(values, np.float64)
    require(bool(np.isfinite(values).all()), target, f"{what} has non-finite values")
    require(bool(((values >= low) & (values <= high)).all()), target,
             f"{what} has values outside the declared bounds [{low}, {high}]: min {values.min():.4g}, max {values.max():.4g}")


def check_metric_values_in_bounds(target: Target) -> None:
    """Values are finite and within ``bounds`` for random, perfect and wrong logits; per_example gives shape (B,)."""
    spec: MetricSpec = target.spec
    labels, cases = metric_inputs()
    for case, logits in cases.items():
        if spec.per_example is not None:
            out = _per_example(target, logits, labels, case)
            require(getattr(out, "shape", None) == labels.shape, target,
                     f"per_example on {case} logits returns shape {getattr(out, 'shape', type(out).__name__)}; expected {labels.shape}")
            require(jnp.issubdtype(out.dtype, jnp.floating), target, f"per_example returns {out.dtype}; expected a float dtype")
            _in_bounds(target, f"per_example on {case} logits", np.asarray(out))
        if spec.on_evaluation is not None:
            report = _report(target, logits, labels)
            if report is not None:
                _in_bounds(target, f"on_evaluation on {case} logits", np.array(list(report.values.values()) or [spec.bounds[0]]))


def _per_example(target: Target, logits, labels, case: str = "random"):
    return calling(target, f"per_example on {case} logits", target.spec.per_example, jnp.asarray(logits), jnp.asarray(labels))


def _report(target: Target, logits: np.ndarray, labels: np.ndarray) -> MetricReport | None:
    report = calling(target, "on_evaluation", target.spec.on_evaluation, EvaluationOutputs(1, logits, labels))
    require(report is None or isinstance(report, MetricReport), target,
             f"on_evaluation returned a {type(report).__name__}; expected a MetricReport or None")
    return report


def check_metric_report_is_well_formed(target: Target) -> None:
    """``on_evaluation`` returns str text, float values and bytes artifacts with plain file names."""
    labels, cases = metric_inputs()
    report = _report(target, cases["random"], labels)
    if report is None:
        return
    require(isinstance(report.text, str), target, "MetricReport.text must be a str")
    require(isinstance(report.values, Mapping) and all(isinstance(k, str) for k in report.values), target,
             "MetricReport.values must map names (str) to numbers")
    require(all(isinstance(v, (int, float, np.floating, np.integer)) for v in report.values.values()), target,
             "MetricReport.values must be plain numbers (use float(...))")
    for name, data in report.artifacts.items():
        require(isinstance(data, bytes), target, f"artifact {name!r} must be bytes, got {type(data).__name__}")
        require(Path(name).name == name and name not in ("", ".", ".."), target,
                 f"artifact name {name!r} must be a plain file name, without folders")


def check_metric_compiles_once(target: Target) -> None:
    """``per_example`` works under ``jax.jit``, traces once for three batches of one shape, and matches the eager result."""
    traces = []

    @jax.jit
    def jitted(logits, labels):
        traces.append(1)
        return target.spec.per_example(logits, labels)

    labels, cases = metric_inputs()
    for case, logits in cases.items():
        out = calling(target, f"per_example under jax.jit on {case} logits", jitted, jnp.asarray(logits), jnp.asarray(labels))
        eager = _per_example(target, logits, labels, case)
        require(bool(jnp.allclose(out, eager, rtol=1e-5, atol=1e-6)), target, "the jitted per_example differs from the eager one")
    require(len(traces) == 1, target, f"per_example was traced {len(traces)} times for 3 batches of the same shape")


def check_metric_is_deterministic(target: Target) -> None:
    """The same logits and labels give the same values twice."""
    spec: MetricSpec = target.spec
    labels, cases = metric_inputs(seed=1)
    logits = cases["random"]
    if spec.per_example is not None:
        a = np.asarray(_per_example(target, logits, labels))
        b = np.asarray(_per_example(target, logits, labels))
        require(np.array_equal(a, b, equal_nan=True), target, "per_example gives different values for the same input")
    if spec.on_evaluation is not None:
        first, second = _report(target, logits, labels), _report(target, logits, labels)
        require((first and dict(first.values)) == (second and dict(second.values)), target, "on_evaluation gives different values for the same input")
