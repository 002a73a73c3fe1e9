"""The terminal UI: ``mnistkit tui``.

A thin Textual layer over the rest of mnistkit: lessons come from
``mnistkit.lessons``, plugins from ``mnistkit.plugins``, and a training run is
the engine's stream of events (``mnistkit.events``) iterated in a worker
thread. Screens, widgets and styles live apart (``screens/``, ``widgets/``,
``mnistkit.tcss``); no training logic lives in a widget.

Importing this package is cheap; ``mnistkit.tui.app`` imports Textual.
"""
