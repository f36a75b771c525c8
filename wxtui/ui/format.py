"""Plain text formatting shared by the widgets: counts, ages, dates, cells. No Textual here.

Text from outside (tag names, remarks, openids, errmsgs, titles that hold them) reaches a widget
through `fit` or `literal`: control characters shown as escapes (wxtui.core.outside_text), and as a
rich Text, never as a markup string (a tag named "[/]x" is not a closing tag).
"""

from __future__ import annotations

import time

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from wxtui.core.outside_text import visible, visible_lines  # noqa: F401 (the widgets' way to them)

ELLIPSIS = "…"


def literal(text: object, style: str = "") -> Text:
    """Outside text for a Label, a Static or a table cell: shown as written, controls escaped."""
    return Text(visible(text), style=style)


def fit(text: str, width: int) -> str:
    """text padded or cut to exactly `width` terminal cells (CJK counts 2), marking a cut with …;
    control characters are shown as escapes first."""
    text = visible(text)
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + ELLIPSIS if width > 1 else ELLIPSIS


def count(n: int) -> str:
    """1,204 in full below 10,000; 12.3k, 980k, 1.2M above (a tag list has narrow columns)."""
    if n < 10_000:
        return f"{n:,}"
    if n < 100_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def ago(then: float | None, now: float) -> str:
    """'never', 'just now', '3 min ago', '2 h ago', '4 days ago'."""
    if not then:
        return "never synced"
    seconds = max(0, int(now - then))
    if seconds < 60:
        return "synced just now"
    if seconds < 3600:
        return f"synced {seconds // 60} min ago"
    if seconds < 86400:
        return f"synced {seconds // 3600} h ago"
    days = seconds // 86400
    return f"synced {days} day{'s' if days != 1 else ''} ago"


def short_appid(appid: str) -> str:
    """wx1234abcd5678ef90 -> wx1234…ef90: enough to tell accounts apart on a narrow header."""
    return appid if len(appid) <= 12 else f"{appid[:6]}{ELLIPSIS}{appid[-4:]}"


def short_openid(openid: str, width: int) -> str:
    """Every openid of an account shares its first 6 characters, so cut from the middle."""
    if len(openid) <= width:
        return openid
    if width < 6:
        return openid[:width]
    head = 4
    tail = width - head - 1
    return f"{openid[:head]}{ELLIPSIS}{openid[-tail:]}"


def china_time(unix: float) -> str:
    """'11-23 00:00 China time': quotas reset at midnight there."""
    return time.strftime("%m-%d %H:%M China time", time.gmtime(unix + 8 * 3600))


def date(unix: int) -> str:
    if not unix:
        return ""
    return time.strftime("%Y-%m-%d", time.gmtime(unix + 8 * 3600))  # China time, as WeChat shows it


def scene(value: str) -> str:
    """ADD_SCENE_QR_CODE -> qr code."""
    if value.startswith("ADD_SCENE_"):
        value = value[len("ADD_SCENE_"):]
    return value.replace("_", " ").lower()


def duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    seconds = int(round(seconds))
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
