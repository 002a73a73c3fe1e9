"""MNIST for mnistkit: find it, check it, load it, feed it.

The public API is what this module exports. Importing it is cheap: TensorFlow,
tensorflow-datasets, JAX and Flax are imported only inside the functions that
need them (``load_mnist`` for the ``mnist`` source, ``import_idx_dir``,
``make_tf_datasets``).

Modules: ``idx`` (the IDX file format), ``files`` (the four original files and
their checksums), ``locations`` (where data lives), ``sources`` (the sources
and ``auto``), ``importing`` (``mnistkit data import``), ``pipeline``
(tf.data).
"""

from mnistkit.data.files import FILE_NAMES, verify_dir
from mnistkit.data.importing import ImportResult, import_idx_dir
from mnistkit.data.pipeline import make_tf_datasets
from mnistkit.data.sources import SOURCES, MnistArrays, data_status, load_mnist

__all__ = [
    "FILE_NAMES",
    "SOURCES",
    "ImportResult",
    "MnistArrays",
    "data_status",
    "import_idx_dir",
    "load_mnist",
    "make_tf_datasets",
    "verify_dir",
]
