"""The jobs panel: one line per running or recent job, with a bar, rate, ETA, retries, failures.

It holds the latest snapshot of each job (the engine rate-limits its events) and redraws only
the line of the job that changed.
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from wxtui.jobs.events import PAUSED, RUNNING, JobEvent, format_duration
from wxtui.jobs.verify import INCOMPLETE, MISMATCHED, VERIFIED
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
    """Full only when everything is done: 240 of 241 calls is not a full bar."""
    fraction = max(0.0, min(1.0, fraction))
    filled = width if fraction >= 1.0 else min(width - 1, round(fraction * width))
    return "█" * filled + "░" * (width - filled)


def percent(fraction: float) -> str:
    """' 99%' for 99.6%: 100% only when everything is done (a cancelled job showed 100%)."""
    shown = 100 if fraction >= 1.0 else min(99, int(max(0.0, fraction) * 100))
    return f"{shown:3d}%"


def verification_mark(verification) -> tuple[str, str]:
    """'✓ verified 15/15', '✗ 3 of 15 mismatched'... and its style, for the end of a job's line."""
    if verification is None:
        return "", ""
    if verification.state == VERIFIED:
        return f"✓ verified {verification.checked:,}/{verification.sampled:,}", ""
    if verification.state == MISMATCHED:
        wrong = len({m.target for m in verification.mismatches})
        repaired = f", repaired by #{verification.repair_job}" if verification.repair_job else ""
        return f"✗ {wrong:,} of {verification.checked:,} mismatched{repaired}", "bold reverse"
    if verification.state == INCOMPLETE:
        return "? verification incomplete", "italic"
    return "", ""


MIN_TITLE = 10
MIN_BAR = 5


Layout = tuple[int, int, int]  # (level of brevity, title width, bar width): see job_line


def job_line(event: JobEvent, title_width: int = 24, width: int | None = None,
             members: str = "followers", verification=None, layout: Layout | None = None) -> Text:
    """One job on one line. When the whole line does not fit `width`, it is said shorter, step
    by step, before anything is cut: the call rate goes, the rate loses its noun, the gaps
    narrow, the title and then the bar shorten; so the counts at its end (retries, failed)
    still show on an 80-column terminal. A panel of several lines gives them all one layout
    (shared_layout), so that their titles and bars line up."""
    level, title, bar_width = layout or line_layout(event, title_width, width, members, verification)
    text = _job_line(event, title, members, verification, level, bar_width)
    if width:
        text.truncate(width, overflow="ellipsis")  # one line per job, whatever the terminal
    return text


def line_layout(event: JobEvent, title_width: int, width: int | None, members: str = "followers",
                verification=None) -> Layout:
    """The least brief layout at which the job's line fits `width`."""
    if not width:
        return 0, title_width, BAR_WIDTH
    for level in (0, 1, 2, 3):
        text = _job_line(event, title_width, members, verification, level)
        if text.cell_len <= width:
            return level, title_width, BAR_WIDTH
    over = text.cell_len - width
    title = max(MIN_TITLE, title_width - over)
    over -= title_width - title
    return 3, title, max(MIN_BAR, BAR_WIDTH - max(0, over))


def shared_layout(layouts: list[Layout]) -> Layout | None:
    """One layout for lines shown together: as brief as the briefest of them needs."""
    if not layouts:
        return None
    return (max(level for level, _, _ in layouts), min(title for _, title, _ in layouts),
            min(bar_width for _, _, bar_width in layouts))


def _job_line(event: JobEvent, title_width: int, members: str, verification, level: int,
              bar_width: int = BAR_WIDTH) -> Text:
    """The line at a level of brevity: 0 all of it; 1 without the call rate; 2 the rate
    without its noun; 3 single spaces between the parts."""
    gap = " " if level >= 3 else "  "
    text = Text(no_wrap=True, overflow="ellipsis")
    label = state_label(event)
    text.append(fmt.fit(label, STATE_WIDTH), style=_STATE_STYLE.get(label, ""))
    text.append(" " + fmt.fit(event.title, title_width) + " ")
    text.append(bar(event.fraction, bar_width), style="bold" if event.state == RUNNING else "")
    text.append(f" {percent(event.fraction)}")
    if event.state == RUNNING and not event.stopping:
        rate = f"{event.target_rate:,.0f}"
        if level == 0:
            text.append(f"{gap}{rate} {members}/s ({event.rate:,.0f} calls/s)")
        elif level == 1:
            text.append(f"{gap}{rate} {members}/s")
        else:
            text.append(f"{gap}{rate}/s")
        if event.eta_s is not None:
            text.append(f"{gap}ETA {format_duration(event.eta_s)}")
        if event.retry_in_s is not None:
            # Why it stalls: a call waits out a backoff (a busy platform, an outage).
            text.append(f"{gap}retry in {math.ceil(event.retry_in_s)}s", style="italic")
    if event.retries:
        text.append(f"{gap}{event.retries:,} retries" if event.retries != 1 else f"{gap}1 retry")
    text.append(f"{gap}{event.failures_count:,} failed", style="bold" if event.failures_count else "")
    if event.message and event.state != RUNNING and event.message not in (event.state, label):
        text.append(f"{gap}{fmt.visible(event.message)}", style="italic")
    mark, style = verification_mark(verification)
    if mark:
        text.append(gap)
        text.append(mark, style=style)
    return text


class JobsPanel(OptionList):
    """Running and recent jobs, newest first; hidden while there are none."""

    BINDINGS = keys.JOBS

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.events: dict[int, JobEvent] = {}
        self.members = "followers"  # what the rate counts ("users" on a Tencent Cloud IM account)
        self.verifications: dict[int, object] = {}  # job id -> its latest Verification
        self._shown_layout: Layout | None = None  # the one the lines shown share
        self.display = False

    def show_verification(self, verification) -> None:
        self.verifications[verification.job_id] = verification
        if verification.job_id in self.events:
            self._show_line(self.events[verification.job_id])

    def show_event(self, event: JobEvent) -> None:
        known = event.job_id in self.events
        self.events[event.job_id] = event
        option_id = f"job:{event.job_id}"
        if known:
            self._show_line(event)
            return
        self.events = {e.job_id: e for e in sorted(self.events.values(), key=lambda e: -e.job_id)[:MAX_JOBS]}
        # A new job is the one the user means next (x, R, enter): the highlight goes to it.
        self._redraw(highlight=event.job_id)
        self.display = True

    def _show_line(self, event: JobEvent) -> None:
        """Redraw one job's line; every line when the layout they share has to change."""
        if self._layout() != self._shown_layout:
            self._redraw()
        else:
            self.replace_option_prompt(f"job:{event.job_id}", self._line(event, self._shown_layout))

    def _layout(self) -> Layout | None:
        title_width, width = self._title_width(), self._line_width()
        return shared_layout([line_layout(e, title_width, width, self.members, self.verifications.get(e.job_id))
                              for e in self.events.values()])

    def _line(self, event: JobEvent, layout: Layout | None) -> Text:
        return job_line(event, self._title_width(), self._line_width(), self.members,
                        self.verifications.get(event.job_id), layout)

    def _title_width(self) -> int:
        # What the state, bar, percentage, rates, ETA and counts leave (about 84 cells).
        return max(20, min(48, self.size.width - 84))

    def _line_width(self) -> int:
        return max(20, self.scrollable_content_region.width - 1)

    def _redraw(self, highlight: int | None = None) -> None:
        highlighted = self.highlighted_job_id if highlight is None else highlight
        layout = self._shown_layout = self._layout()
        self.set_options(Option(self._line(e, layout), id=f"job:{e.job_id}") for e in self.events.values())
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
