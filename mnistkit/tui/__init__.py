"""The terminal UI: ``mnistkit tui``.

A thin Textual layer over the rest of mnistkit: lessons come from
``mnistkit.curriculum.lessons``, plugins from ``mnistkit.host.registry``, and a training run is
the engine's stream of events (``mnistkit.engine.events``) iterated in a worker
thread. Screens, widgets and styles live apart (``screens/``, ``widgets/``,
``mnistkit.tcss``); no training logic lives in a widget.

Importing this package is cheap; ``mnistkit.tui.app`` imports Textual.
"""
