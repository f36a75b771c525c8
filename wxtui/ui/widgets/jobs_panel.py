"""The jobs panel: one line per running or recent job, with a bar, rate, ETA, retries, failures.

It holds the latest snapshot of each job (the engine rate-limits its events) and redraws only
the line of the job that changed.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from wxtui.jobs.events import PAUSED, RUNNING, JobEvent, format_duration
from wxtui.ui import format as fmt
from wxtui.ui import keys

BAR_WIDTH = 10
MAX_JOBS = 20
STATE_WIDTH = 11  # the longest state words: "cancelling…", "interrupted"

_STATE_STYLE = {"running": "bold", "paused": "bold reverse", "failed": "bold reverse",
                "cancelled": "dim", "done": "", "ready": "dim", "interrupted": "bold reverse"}
_STOPPING = {"cancelled": "cancelling…", "paused": "pausing…"}


def state_label(event: JobEvent) -> str:
    """The job's state as the panel says it: a running job asked to stop is "cancelling…" until
    its calls still out are in; a job the last process left running is "interrupted"."""
    if event.state == RUNNING and event.stopping:
        return _STOPPING.get(event.stopping, "stopping…")
    if event.state == PAUSED and event.message == "interrupted":
        return "interrupted"
    return event.state


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


def job_line(event: JobEvent, title_width: int = 24, width: int | None = None,
             members: str = "followers") -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    label = state_label(event)
    text.append(fmt.fit(label, STATE_WIDTH), style=_STATE_STYLE.get(label, ""))
    text.append(" " + fmt.fit(event.title, title_width) + " ")
    text.append(bar(event.fraction), style="bold" if event.state == RUNNING else "")
    text.append(f" {event.fraction * 100:3.0f}%")
    if event.state == RUNNING and not event.stopping:
        text.append(f"  {event.target_rate:,.0f} {members}/s ({event.rate:,.0f} calls/s)")
        if event.eta_s is not None:
            text.append(f"  ETA {format_duration(event.eta_s)}")
    if event.retries:
        text.append(f"  {event.retries:,} retries" if event.retries != 1 else "  1 retry")
    text.append(f"  {event.failures_count:,} failed", style="bold" if event.failures_count else "")
    if event.message and event.state != RUNNING and event.message not in (event.state, label):
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
        self.members = "followers"  # what the rate counts ("users" on a Tencent Cloud IM account)
        self.display = False

    def show_event(self, event: JobEvent) -> None:
        known = event.job_id in self.events
        self.events[event.job_id] = event
        option_id = f"job:{event.job_id}"
        if known:
            self.replace_option_prompt(option_id, self._line(event))
            return
        self.events = {e.job_id: e for e in sorted(self.events.values(), key=lambda e: -e.job_id)[:MAX_JOBS]}
        # A new job is the one the user means next (x, R, enter): the highlight goes to it.
        self._redraw(highlight=event.job_id)
        self.display = True

    def _line(self, event: JobEvent) -> Text:
        return job_line(event, self._title_width(), self._line_width(), self.members)

    def _title_width(self) -> int:
        # What the state, bar, percentage, rates, ETA and counts leave (about 84 cells).
        return max(20, min(48, self.size.width - 84))

    def _line_width(self) -> int:
        return max(20, self.scrollable_content_region.width - 1)

    def _redraw(self, highlight: int | None = None) -> None:
        highlighted = self.highlighted_job_id if highlight is None else highlight
        self.set_options(Option(self._line(e), id=f"job:{e.job_id}") for e in self.events.values())
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
