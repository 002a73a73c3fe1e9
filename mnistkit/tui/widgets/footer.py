"""The key bar at the foot of the main screen."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's footer, rebuilt only when the keys it shows change.

    Textual rebuilds its footer whenever the focus moves; with the focus going
    to the lesson's text on ``1`` and to the run's on ``2``, that rebuild (and
    the layout of the whole screen it causes) made every switch of tab slow,
    though the keys shown stay the same.
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple | None = None

    def bindings_changed(self, screen: Screen) -> None:
        palette = screen.app.COMMAND_PALETTE_BINDING
        shown = tuple((key, binding.action, binding.description, enabled, tooltip)
                      for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
                      if binding.show or key == palette)
        if shown == self._shown:
            return
        if screen.app.app_focus:  # else Textual's footer waits for the focus to come back, and so does this one
            self._shown = shown
        super().bindings_changed(screen)
