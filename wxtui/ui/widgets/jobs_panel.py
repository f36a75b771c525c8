"""The jobs panel: one line per running or recent job, with a bar, rate, ETA, retries, failures.

It holds the latest snapshot of each job (the engine rate-limits its events) and redraws only
the line of the job that changed.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from wxtui.jobs.events import RUNNING, JobEvent, format_duration
from wxtui.ui import format as fmt
from wxtui.ui import keys

BAR_WIDTH = 10
MAX_JOBS = 20

_STATE_STYLE = {"running": "bold", "paused": "bold reverse", "failed": "bold reverse",
                "cancelled": "dim", "done": "", "ready": "dim"}


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


def job_line(event: JobEvent, title_width: int = 24, width: int | None = None) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{event.state:<9}", style=_STATE_STYLE.get(event.state, ""))
    text.append(fmt.fit(event.title, title_width) + " ")
    text.append(bar(event.fraction), style="bold" if event.state == RUNNING else "")
    text.append(f" {event.fraction * 100:3.0f}%")
    if event.state == RUNNING:
        text.append(f"  {event.rate:,.0f}/s")
        if event.eta_s is not None:
            text.append(f"  ETA {format_duration(event.eta_s)}")
    text.append(f"  {event.retries:,} retries" if event.retries != 1 else "  1 retry")
    text.append(f"  {event.failures_count:,} failed", style="bold" if event.failures_count else "")
    if event.message and event.state != RUNNING:
        text.append(f"  {fmt.visible(event.message)}", style="italic")
    if width:
        text.truncate(width, overflow="ellipsis")  # one line per job, whatever the terminal
    return text


class JobsPanel(OptionList):
    """Running and recent jobs, newest first; hidden while there are none."""

    BINDINGS = keys.JOBS

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.events: dict[int, JobEvent] = {}
        self.display = False

    def show_event(self, event: JobEvent) -> None:
        known = event.job_id in self.events
        self.events[event.job_id] = event
        option_id = f"job:{event.job_id}"
        if known:
            self.replace_option_prompt(option_id, job_line(event, self._title_width(), self._line_width()))
            return
        self.events = {e.job_id: e for e in sorted(self.events.values(), key=lambda e: -e.job_id)[:MAX_JOBS]}
        self._redraw()
        self.display = True

    def _title_width(self) -> int:
        # What the state, bar, percentage, rate, ETA and counts leave (about 66 cells).
        return max(20, min(48, self.size.width - 68))

    def _line_width(self) -> int:
        return max(20, self.scrollable_content_region.width - 1)

    def _redraw(self) -> None:
        highlighted = self.highlighted_job_id
        title, line = self._title_width(), self._line_width()
        self.set_options(Option(job_line(e, title, line), id=f"job:{e.job_id}") for e in self.events.values())
        self.highlighted = self.get_option_index(f"job:{highlighted}") if highlighted in self.events else 0

    def on_resize(self) -> None:
        if self.events:
            self._redraw()

    @property
    def highlighted_job_id(self) -> int | None:
        option = self.highlighted_option
        return int(option.id[4:]) if option is not None and option.id else None

    @property
    def highlighted_event(self) -> JobEvent | None:
        job_id = self.highlighted_job_id
        return self.events.get(job_id) if job_id is not None else None
