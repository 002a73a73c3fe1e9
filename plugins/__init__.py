"""Builtin mnistkit plugins, loaded through the ``mnistkit`` entry-point group like any other."""
