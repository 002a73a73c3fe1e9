"""Rebuild mnistkit's bundled MNIST sample from the four original files.

    python scripts/make_sample.py [SOURCE_DIR] [--out DIR]

SOURCE_DIR defaults to ../shared/data/mnist beside the repository; --out to
mnistkit/sample/. The sample is a stratified subset of the real images: 600
train images per digit (6,000) and 100 test images per digit (1,000), chosen
with a fixed seed and kept in their original MNIST order, written as four
gzip IDX files with the standard names. The same inputs always give the same
bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from mnistkit.data import files, idx

REPO = Path(__file__).resolve().parents[1]
SEED = 20240601
TRAIN_PER_CLASS = 600
TEST_PER_CLASS = 100
MAX_BYTES = 2_000_000


def stratified_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Pick ``per_class`` indices of each digit without replacement, in ascending order."""
    chosen = [
        rng.choice(np.flatnonzero(labels == digit), size=per_class, replace=False)
        for digit in range(idx.NUM_CLASSES)
    ]
    return np.sort(np.concatenate(chosen))


def make_sample(source: Path, out: Path) -> int:
    """Write the sample's four files into ``out``; return their total size in bytes."""
    files.verify_dir(source)
    rng = np.random.default_rng(SEED)
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    for images_spec, labels_spec, per_class in (
        (files.TRAIN_IMAGES, files.TRAIN_LABELS, TRAIN_PER_CLASS),
        (files.TEST_IMAGES, files.TEST_LABELS, TEST_PER_CLASS),
    ):
        images, labels = idx.read_pair(source / images_spec.name, source / labels_spec.name)
        keep = stratified_indices(labels, per_class, rng)
        for spec, array in ((images_spec, images[keep]), (labels_spec, labels[keep])):
            idx.write_idx(out / spec.name, array)
            total += (out / spec.name).stat().st_size
    assert total <= MAX_BYTES, f"sample is {total:,} bytes, more than {MAX_BYTES:,}"
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=REPO.parent / "shared/data/mnist")
    parser.add_argument("--out", type=Path, default=REPO / "mnistkit/sample")
    args = parser.parse_args(argv)
    total = make_sample(args.source, args.out)
    print(f"wrote the MNIST sample to {args.out} ({total:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
