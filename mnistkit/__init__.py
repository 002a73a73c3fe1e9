"""mnistkit: the Flax NNX MNIST tutorial as a living, tested, pluggable kit.

Importing this package is cheap on purpose: JAX, Flax, TensorFlow, Textual and
matplotlib are imported only by the modules that use them.
"""

__version__ = "0.1.0"
