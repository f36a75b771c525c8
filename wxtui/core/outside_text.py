"""Text from outside wxtui, made safe to show on a terminal: the one way the commands print it.

A tag name, a remark, an openid, an errmsg, an account id or a line of a file may hold anything:
an ESC that clears the screen or retitles the terminal, a BEL, a CR that overwrites the line, a
newline that fakes another one, a C1 control (U+009B starts a sequence on some terminals), a
bidi override (U+202E) that reverses what follows, a lone surrogate that cannot be encoded.
`visible()` writes each such character as an escape (\\x1b, \\u202e) and leaves everything else
(CJK, emoji, brackets, backslashes) as it was written.

Rich takes outside text as `Text` (`as_text`, `OutsideTextColumn`), never inside a markup
string, so a tag named "[/]x" or "[bold]b" is shown exactly so. Plain output goes through
`echo` and `warn`, which make every control character but the newlines of a message visible.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, TextIO

# C0 and C1 controls and DEL; the bidi marks, embeddings, overrides and isolates; the line and
# paragraph separators; lone surrogates (UTF-16 halves that JSON can carry and no terminal can show).
_NOT_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE_RE = re.compile(f"[\x00-\x1f{_NOT_C0}]")
_UNSAFE_BUT_NEWLINE_RE = re.compile(f"[\x00-\x09\x0b-\x1f{_NOT_C0}]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: object) -> str:
    """One value or one line, every control character written as an escape (newlines too)."""
    return _UNSAFE_RE.sub(_escape, str(value))


def visible_lines(value: object) -> str:
    """A message of several lines: newlines kept, every other control character escaped."""
    return _UNSAFE_BUT_NEWLINE_RE.sub(_escape, str(value))


def visible_json(data: Any, **dumps_kwargs: Any) -> str:
    """JSON of `data` that is still the same JSON and shows nothing raw: the characters `visible`
    escapes become \\u escapes. Inside strings json escapes C0 controls itself; the newlines
    left are those of the indentation."""
    text = json.dumps(data, ensure_ascii=False, **dumps_kwargs)
    return _UNSAFE_BUT_NEWLINE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def echo(line: object = "", *, err: bool = False, file: TextIO | None = None) -> None:
    """Print one line; a newline in it is shown as \\n, like every other control character."""
    print(visible(line), file=file or (sys.stderr if err else sys.stdout))


def echo_lines(text: object, *, err: bool = False, file: TextIO | None = None) -> None:
    """Print a message that may span lines (ours); outside values in it must be `visible()`."""
    print(visible_lines(text), file=file or (sys.stderr if err else sys.stdout))


def warn(message: object) -> None:
    """A message for the user on stderr, after "wxtui: "."""
    echo_lines(f"wxtui: {message}", err=True)


def as_text(value: object, style: str = ""):
    """Outside text as a rich Text: shown literally, never read as markup."""
    from rich.text import Text

    return Text(visible(value), style=style)


def outside_text_column(field: str = "description", **column_kwargs: Any):
    """A progress column showing one of the task's values (its description, or a field) as
    outside text."""
    from rich.progress import ProgressColumn

    class OutsideTextColumn(ProgressColumn):
        def render(self, task):
            value = task.description if field == "description" else task.fields.get(field, "")
            return as_text(value)

    return OutsideTextColumn(**column_kwargs)
