"""A list of choices ticked with Space, whose boxes read as what they are: ``[x]`` ticked, ``[ ]`` not.

Textual's ``SelectionList`` draws every box as ``▐X▌`` and tells them apart
by colour only, so an unticked box reads as ticked in plain text, in a
screen reader, or in a theme whose colours are close.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widgets import OptionList, SelectionList
from textual.widgets.option_list import OptionDoesNotExist

TICKED, UNTICKED = "[x]", "[ ]"


class CheckList(SelectionList[str]):
    """A ``SelectionList`` of strings drawn with ``[x]`` and ``[ ]`` boxes, the ticked ones bold."""

    def render_line(self, y: int) -> Strip:
        line = OptionList.render_line(self, y)  # the prompt alone; SelectionList's would add its ▐X▌ box
        index = self.scroll_offset.y + y
        try:
            selection = self.get_option_at_index(index)
        except OptionDoesNotExist:
            return line
        base = (next(iter(line)).style or Style()) + Style(meta={"option": index})  # a click on the box ticks it
        ticked = selection.value in self.selected
        box = Segment(TICKED if ticked else UNTICKED, base + Style(bold=ticked))
        return Strip([box, Segment(" ", base), *line])
