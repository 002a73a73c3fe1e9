"""What can be trained: the plugin host (hooks, specs, registry, building models and optimizers)."""
