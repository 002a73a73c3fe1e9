"""The TUI's screens: the main lesson and run view, choosing what to train, plugins, help."""
