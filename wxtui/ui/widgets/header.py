"""The one-line header: account, AppID, sync age (or sync progress) and the quota state."""

from __future__ import annotations

import time
from typing import Callable

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from wxtui.ui import format as fmt


class AccountHeader(Widget):
    DEFAULT_CSS = """
    AccountHeader {
        dock: top;
        height: 1;
        width: 1fr;
    }
    """

    account = reactive("")
    appid = reactive("")
    synced_at: reactive[float | None] = reactive(None)
    sync_progress: reactive[str] = reactive("")  # non-empty while a sync runs
    quota = reactive("quota …")
    quota_warning = reactive(False)

    def __init__(self, clock: Callable[[], float] = time.time, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clock = clock

    def on_mount(self) -> None:
        # The age text changes by the minute; nothing else needs a timer.
        self.set_interval(30, self.refresh)

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" wxtui", style="bold")
        if self.account:
            text.append(" · ")
            text.append(fmt.visible(self.account), style="bold")
        if self.appid:
            text.append(f" ({fmt.short_appid(self.appid)})")
        text.append(" · ")
        if self.sync_progress:
            text.append(self.sync_progress, style="bold")
        else:
            text.append(fmt.ago(self.synced_at, self.clock()))
        if self.quota:
            text.append(" · ")
            text.append(self.quota, style="bold reverse" if self.quota_warning else "")
        return text
