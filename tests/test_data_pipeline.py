"""The tf.data pipeline: shapes, scaling, shuffling, and full test coverage."""

from __future__ import annotations

import numpy as np
import pytest

from mnistkit.data import MnistArrays, make_tf_datasets
from mnistkit.errors import ConfigError


def tiny_arrays(n_train: int = 50, n_test: int = 20) -> MnistArrays:
    rng = np.random.default_rng(0)
    return MnistArrays(
        train_images=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        train_labels=(np.arange(n_train) % 10).astype(np.int32),
        test_images=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        test_labels=(np.arange(n_test) % 10).astype(np.int32),
        source="idx",
        description="tiny test arrays",
        is_sample=False,
    )


def as_numpy(dataset) -> list[dict[str, np.ndarray]]:
    return [{k: v.numpy() for k, v in batch.items()} for batch in dataset]


def test_train_batches_are_scaled_full_and_shaped_like_the_tutorial():
    arrays = tiny_arrays(n_train=50)
    train, _ = make_tf_datasets(arrays, batch_size=8, seed=0)

    batches = as_numpy(train)

    assert len(batches) == 6  # 50 // 8: the partial batch is dropped
    for batch in batches:
        assert batch["image"].shape == (8, 28, 28, 1) and batch["image"].dtype == np.float32
        assert batch["label"].shape == (8,) and batch["label"].dtype == np.int32
    images = np.concatenate([b["image"] for b in batches])
    assert images.min() == 0.0 and images.max() == 1.0


def test_test_batches_cover_every_image_once_in_order():
    arrays = tiny_arrays(n_test=20)
    _, test = make_tf_datasets(arrays, batch_size=8, seed=0)

    batches = as_numpy(test)

    assert [len(b["label"]) for b in batches] == [8, 8, 4]
    np.testing.assert_array_equal(np.concatenate([b["label"] for b in batches]), arrays.test_labels)
    images = np.concatenate([b["image"] for b in batches])[..., 0]
    np.testing.assert_allclose(images, arrays.test_images / 255.0, rtol=1e-6)


def test_train_order_is_shuffled_seeded_and_new_each_epoch():
    arrays = tiny_arrays(n_train=50)

    def epochs(seed: int) -> list[np.ndarray]:
        train, _ = make_tf_datasets(arrays, batch_size=10, seed=seed)
        return [np.concatenate([b["image"][:, 0, 0, 0] for b in as_numpy(train)]) for _ in range(2)]

    first, again, other = epochs(1), epochs(1), epochs(2)

    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[0], other[0])
    unshuffled = arrays.train_images[:, 0, 0] / 255.0
    assert not np.allclose(first[0], unshuffled)
    np.testing.assert_allclose(np.sort(first[0]), np.sort(unshuffled), rtol=1e-6)


@pytest.mark.parametrize("batch_size", [0, 51])
def test_batch_size_that_gives_no_train_batch_is_a_config_error(batch_size):
    with pytest.raises(ConfigError, match="batch size"):
        make_tf_datasets(tiny_arrays(n_train=50), batch_size=batch_size, seed=0)
