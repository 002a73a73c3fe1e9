"""A worked example of a third-party mnistkit plugin (see ``mnistkit_example.plugin``)."""
