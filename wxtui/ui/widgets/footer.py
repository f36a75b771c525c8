"""The footer at any width: the keys that do not fit give way, from the right, and help stays.

Textual's footer scrolls sideways when its keys are wider than the screen, and the command
palette's key, docked on the right, is then drawn over the last of them ("^p palettep" at 80
columns, with `? Help` pushed out of sight). Here the keys that do not fit are hidden instead,
the rightmost first, never the help key: every hidden key is still listed by `?` and `ctrl+p`.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

PALETTE_CLASS = "-command-palette"


def _keeps_its_place(key: FooterKey) -> bool:
    return key.has_class(PALETTE_CLASS) or key.action.rpartition(".")[2] == "help"


class FittingFooter(Footer):
    async def recompose(self) -> None:
        await super().recompose()
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Widths from the keys' text and the footer's style rules, not from their layout or
        their computed styles: right after a recompose the keys have neither yet."""
        keys = list(self.query(FooterKey))
        widths = {key: _width(key, self.compact) for key in keys}
        used = sum(widths.values())
        for key in reversed(keys):
            if used > self.size.width and not _keeps_its_place(key):
                used -= widths[key]
                key.display = False
            else:
                key.display = True


def _width(key: FooterKey, compact: bool) -> int:
    """Cells a key takes, as Textual's footer styles draw it: compact, "k Desc" and a margin of 1;
    otherwise " k " and "Desc "; the palette's key has a border on its left."""
    width = cell_len(key.key_display)
    if key.description:
        width += 1 + cell_len(key.description)
    if compact:
        width += 1
    else:
        width += 2
    if key.has_class(PALETTE_CLASS):
        width += 1
    return width
