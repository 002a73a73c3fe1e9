"""Checker of clu-metrics-collection: merge two batches of different sizes and compare with the image-weighted numbers."""

import numpy as np

from mnistkit.curriculum.checks import Failed, function

FIELDS = ("accuracy", "loss")


def check(learner):
    import jax
    from clu import metrics

    Metrics = function(learner, "Metrics")
    if not (isinstance(Metrics, type) and issubclass(Metrics, metrics.Collection)):
        raise Failed("`Metrics` must be a class that subclasses clu's metrics.Collection, decorated with @struct.dataclass.")
    fields = dict(vars(Metrics).get("__annotations__", {}))
    if any(isinstance(kind, str) for kind in fields.values()):
        raise Failed("the annotations of Metrics are strings, because your file has `from __future__ import annotations`; "
                     "clu reads them as the program runs, so remove that line.")
    for name in FIELDS:
        if name not in fields:
            raise Failed(f"your Metrics has no `{name}` field, so compute() gives no {name!r}; add "
                         + ("`accuracy: metrics.Accuracy`." if name == "accuracy"
                            else "`loss: metrics.Average.from_output(\"loss\")`."))
    for name, kind in fields.items():
        if not (isinstance(kind, type) and issubclass(kind, metrics.Metric)):
            raise Failed(f"the field `{name}` of Metrics is annotated with {kind!r}, which is not a clu metric; "
                         "use metrics.Accuracy or metrics.Average.from_output(...).")

    for seed, sizes in ((0, (24, 8)), (1, (8, 24))):
        batches = _batches(seed, sizes)
        outputs = [{"logits": logits, "labels": labels, "loss": _losses(logits, labels)} for logits, labels in batches]
        for name, kind in fields.items():
            try:
                jax.eval_shape(lambda output, kind=kind: kind.from_model_output(**output), outputs[0])
            except KeyError as err:
                wanted = err.args[0] if err.args else "?"
                hint = ('metrics.Average.from_output("loss")' if name == "loss"
                        else "metrics.Accuracy" if name == "accuracy" else "an output the check passes")
                raise Failed(f"the field `{name}` reads the model output {wanted!r}, but the outputs are logits, labels "
                             f"and loss; make it {hint}.") from None
        result = _merged(Metrics, outputs)
        all_logits = np.concatenate([logits for logits, _ in batches])
        all_labels = np.concatenate([labels for _, labels in batches])
        want_accuracy = float(np.mean(all_logits.argmax(-1) == all_labels))
        all_losses = np.concatenate([output["loss"] for output in outputs])
        want_loss = float(all_losses.mean())
        last_loss = float(outputs[-1]["loss"].mean())
        accuracy, loss = float(result["accuracy"]), float(result["loss"])
        if not np.isclose(accuracy, want_accuracy, atol=1e-6):
            raise Failed(f"accuracy came out {accuracy:.4f} over batches of {sizes[0]} and {sizes[1]} images, but "
                         f"{want_accuracy:.4f} of the images were right; the `accuracy` field must be metrics.Accuracy.")
        if np.isclose(loss, last_loss, rtol=1e-5) and not np.isclose(loss, want_loss, rtol=1e-5):
            raise Failed(f"the loss came out {loss:.4f}, the last batch's mean, not {want_loss:.4f} over both batches: "
                         "merging keeps only the last batch; use metrics.Average.from_output(\"loss\").")
        if not np.isclose(loss, want_loss, rtol=1e-5):
            raise Failed(f"the loss came out {loss:.4f}, but the mean loss over every image of both batches is "
                         f"{want_loss:.4f}; use metrics.Average.from_output(\"loss\").")
    return "Metrics counts every image: its accuracy and mean loss match over batches of different sizes."


def _batches(seed, sizes):
    """Random logits and labels; the first batch is mostly right and the second mostly wrong, so weighting shows."""
    rng = np.random.default_rng(seed)
    batches = []
    for index, size in enumerate(sizes):
        labels = rng.integers(0, 10, size).astype(np.int32)
        logits = rng.normal(size=(size, 10)).astype(np.float32)
        right = rng.random(size) < (0.8 if index == 0 else 0.2)
        logits[np.arange(size), labels] += np.where(right, 4.0, -4.0)
        batches.append((logits, labels))
    return batches


def _merged(Metrics, outputs):
    """Metrics.empty(), merged with one single_from_model_output per batch, computed: one compiled program."""
    import jax

    @jax.jit
    def merged(outputs):
        totals = Metrics.empty()
        for output in outputs:
            totals = totals.merge(Metrics.single_from_model_output(**output))
        return totals.compute()

    return merged(outputs)


def _losses(logits, labels):
    """Per-image cross-entropy, in NumPy (float64), as optax.softmax_cross_entropy_with_integer_labels computes it."""
    shifted = logits.astype(np.float64) - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return (-log_probs[np.arange(len(labels)), labels]).astype(np.float32)
