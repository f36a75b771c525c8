"""A str that never shows itself in a repr (and so not in a traceback's locals)."""

from __future__ import annotations


class SecretStr(str):
    """Behaves as the str it holds everywhere it is used, but repr() shows '***'.

    Tracebacks rendered with their locals (rich, Textual's crash screen) use repr(), so wrapping
    tokens and secrets in this type keeps them off the screen even when something goes wrong.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"

    def __getitem__(self, key) -> "SecretStr":
        # A slice of a secret is a secret: rich shortens long strings in tracebacks by slicing.
        return SecretStr(str.__getitem__(self, key))

    def reveal(self) -> str:
        return str.__str__(self)
