"""The footer at any width: the keys that do not fit give way, from the right, and help stays.

Textual's footer scrolls sideways when its keys are wider than the screen, and the command
palette's key, docked on the right, is then drawn over the last of them ("^p palettep" at 80
columns, with `? Help` pushed out of sight). Here the keys that do not fit are hidden instead,
the rightmost first, never the help key: every hidden key is still listed by `?` and `ctrl+p`.
"""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

PALETTE_CLASS = "-command-palette"
KEY_GAP = 1  # the compact footer's space between two keys


def _keeps_its_place(key: FooterKey) -> bool:
    return key.has_class(PALETTE_CLASS) or key.action.rpartition(".")[2] == "help"


class FittingFooter(Footer):
    async def recompose(self) -> None:
        await super().recompose()
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        for key in self.query(FooterKey):
            key.display = True  # measured at their natural width first
        self.call_after_refresh(self._hide_what_does_not_fit)

    def _hide_what_does_not_fit(self) -> None:
        keys = [key for key in self.query(FooterKey) if key.display]
        used = sum(key.outer_size.width + KEY_GAP for key in keys)
        for key in reversed(keys):
            if used <= self.size.width:
                break
            if not _keeps_its_place(key):
                used -= key.outer_size.width + KEY_GAP
                key.display = False
