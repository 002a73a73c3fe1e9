"""PYTORCH: the tutorial's CNN and recipe written as a PyTorch user would, for ``benchmarks/run.py``.

Not part of mnistkit, and torch is never one of its dependencies: the
benchmark runs this file with an interpreter that has torch (``--torch-python``)
and skips the row when there is none.

The same network (conv 32 and conv 64, 3x3 with "same" padding, ReLU, 2x2
average pools, dense 256, dense 10: 824,458 parameters) and the same recipe
(AdamW at 0.005 with b1 0.9, b2 0.999 and weight decay 1e-4 as optax's
defaults, batch 32 with the last partial batch dropped, a fresh shuffle each
epoch, every one of the 10,000 test images scored after each epoch). The
data is read from the four IDX files with NumPy and kept in memory as
tensors; the training metrics come from the forward pass that computes the
gradients. Prints the same JSON lines as ``tutorial_baseline.py``.
"""

import argparse
import gzip
import json
import resource
import sys
import time
from pathlib import Path

T0 = time.perf_counter()

import numpy as np
import torch
from torch import nn


def read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(folder: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz")
    return torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


class CNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(7 * 7 * 64, 256), nn.ReLU(), nn.Linear(256, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    torch.manual_seed(0)
    train_x, train_y = load(args.data_dir, "train")
    test_x, test_y = load(args.data_dir, "test")
    model = CNN()
    assert sum(p.numel() for p in model.parameters()) == 824_458
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.005, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    steps = len(train_x) // args.batch_size
    first_step_at = compile_seconds = None
    history = []
    for epoch in range(1, args.epochs + 1):
        epoch_start = time.perf_counter()
        model.train()
        order = torch.randperm(len(train_x))
        loss_sum = correct = 0.0
        for step in range(steps):
            index = order[step * args.batch_size:(step + 1) * args.batch_size]
            images, labels = train_x[index], train_y[index]
            logits = model(images)
            loss = loss_fn(logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
            correct += (logits.argmax(1) == labels).sum().item()
            if first_step_at is None:
                first_step_at = time.perf_counter() - T0
                compile_seconds = time.perf_counter() - epoch_start  # eager: the first step's own time
        train_seconds = time.perf_counter() - epoch_start
        model.eval()
        test_loss = test_correct = 0.0
        with torch.no_grad():
            for start in range(0, len(test_x), 1000):
                logits = model(test_x[start:start + 1000])
                labels = test_y[start:start + 1000]
                test_loss += nn.functional.cross_entropy(logits, labels, reduction="sum").item()
                test_correct += (logits.argmax(1) == labels).sum().item()
        row = {"epoch": epoch, "train_seconds": train_seconds, "epoch_seconds": time.perf_counter() - epoch_start,
               "train_loss": loss_sum / steps, "train_accuracy": correct / (steps * args.batch_size),
               "test_loss": test_loss / len(test_x), "test_accuracy": test_correct / len(test_x),
               "elapsed": time.perf_counter() - T0}
        history.append(row)
        print(json.dumps(row), flush=True)
    print(json.dumps({
        "summary": True, "backend": f"torch {torch.__version__} cpu, {torch.get_num_threads()} threads",
        "steps_per_epoch": steps, "batch_size": args.batch_size,
        "compile_seconds": compile_seconds, "first_step_at": first_step_at,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "history": history,
        "process_seconds": time.perf_counter() - T0,
    }), flush=True)


if __name__ == "__main__":
    sys.exit(main())
