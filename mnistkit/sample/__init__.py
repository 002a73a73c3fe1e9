"""The bundled MNIST sample (see README.md here for its origin and licence)."""
