"""The TUI's widgets; each one shows one thing and holds no training logic."""
