"""The jobs panel: the highlight follows the newest job, x/R/enter act on the highlighted one,
a cancel shows "cancelling…" and ends within its grace even when calls hang, and what the panel
says (state, rates, messages) reads right."""

from __future__ import annotations

import pytest

from ui_fixtures import app_for, demo_session, notifications, ready, settle, tag_named, until, wait_for_screen
from wxtui.jobs.events import CANCELLED, DONE, RUNNING, JobEvent
from wxtui.ui.screens.confirm import ConfirmScreen
from wxtui.ui.screens.job_detail import JobDetailScreen
from wxtui.ui.screens.prompts import TagPickerScreen
from wxtui.ui.widgets.jobs_panel import job_line

SIZE = (120, 30)


async def tag_selection(pilot, tag: str, *, before_confirm=None) -> None:
    await pilot.press("t")
    await wait_for_screen(pilot, TagPickerScreen)
    await pilot.press(*tag, "enter")
    await wait_for_screen(pilot, ConfirmScreen)
    if before_confirm is not None:
        before_confirm()
    await pilot.press("y")


async def test_the_newest_job_is_highlighted_and_x_cancels_it_even_with_calls_stuck(tmp_path):
    async with demo_session(tmp_path) as session:
        emulator = session.emulator
        acct = emulator.account
        journal = None
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            journal = app.model.jobs.journal
            panel = screen.jobs_panel
            # A first job that finishes.
            await pilot.press("space")
            await tag_selection(pilot, "Staff")
            await settle(pilot)
            first = max(panel.events)
            assert panel.events[first].state == DONE
            # A second one whose calls all hang on the wire.
            await pilot.press("A", "a")
            await settle(pilot)

            def hang():
                emulator.faults.p_slow, emulator.faults.slow_s = 1.0, 3600.0

            newsletter = tag_named(acct, "Newsletter")
            await tag_selection(pilot, "Newsletter", before_confirm=hang)
            for _ in range(500):
                if max(panel.events) != first and app.model.jobs.scheduler.in_flight:
                    break
                await pilot.pause(0.01)
            second = max(panel.events)
            assert second != first and panel.highlighted_job_id == second
            await pilot.press("j", "x")
            await pilot.pause()
            event = panel.events[second]
            assert event.state == RUNNING and event.stopping == CANCELLED
            assert "cancelling…" in str(panel.get_option(f"job:{second}").prompt)
            await settle(pilot)  # the grace runs out: the stuck calls are given up
            assert panel.events[second].state == CANCELLED
            assert journal.job(second).state == CANCELLED
            assert journal.job(first).state == DONE  # the older job was left alone
            calls = journal.counts(second).calls
            # No answer came: no call counts as done; all go again on resume (WeChat may have
            # applied some already; tagging twice changes nothing).
            assert calls.get("done") is None and calls.get("in_flight") is None
            assert calls["pending"] == event.calls_total
            line = str(panel.get_option(f"job:{second}").prompt)
            assert line.count("cancelled") == 1
            # enter opens the highlighted job, R resumes it.
            await pilot.press("enter")
            detail = await wait_for_screen(pilot, JobDetailScreen)
            assert detail.event.job_id == second
            await pilot.press("escape")
            emulator.faults.p_slow = 0.0
            await pilot.press("R")
            await settle(pilot)
            assert journal.job(second).state == DONE
            assert set(acct.tag_members(newsletter)) == set(acct.follower_openids())


def event(**fields) -> JobEvent:
    base = dict(job_id=1, title="tag \"VIP\" onto 2,000 followers", state=RUNNING, calls_done=10,
                calls_failed=0, calls_total=40, targets_done=500, targets_failed=0, targets_total=2000)
    base.update(fields)
    return JobEvent(**base)


def test_a_job_line_states_rates_in_followers_and_calls_per_second():
    line = str(job_line(event(rate=20.0, eta_s=90)))
    assert "1,000 followers/s (20 calls/s)" in line and "ETA 1:30" in line
    assert line.startswith("running     tag")
    cancelling = str(job_line(event(rate=20.0, stopping=CANCELLED)))
    assert cancelling.startswith("cancelling… tag") and "/s" not in cancelling
    cancelled = str(job_line(event(state=CANCELLED, message="cancelled")))
    assert cancelled.startswith("cancelled   tag") and cancelled.count("cancelled") == 1
    interrupted = str(job_line(event(state="paused", message="interrupted")))
    assert interrupted.startswith("interrupted tag") and interrupted.count("interrupted") == 1
    users = str(job_line(event(rate=4.0), members="users"))
    assert "200 users/s (4 calls/s)" in users


@pytest.mark.parametrize("width", [78, 80, 100])
def test_a_running_job_with_retries_fits_a_narrow_terminal_counts_and_all(width):
    running = event(title='tag "Newsletter" onto 617,126 followers', calls_done=300, calls_total=12_343,
                    targets_done=15_000, targets_total=617_126, rate=20.0, eta_s=7265, retries=1234,
                    failures_count=12)
    line = job_line(running, 20, width)
    assert line.cell_len <= width
    plain = line.plain
    assert plain.endswith("1,234 retries 12 failed") or plain.endswith("1,234 retries  12 failed")
    assert "ETA 2:01:05" in plain and "1,000" in plain and "…" in plain.split("░")[0]  # the title gave way


def test_a_job_line_that_fits_is_said_in_full():
    line = job_line(event(rate=20.0, eta_s=90, retries=3), 24, 200).plain
    assert "1,000 followers/s (20 calls/s)" in line and "  3 retries  0 failed" in line


async def test_a_job_paused_by_an_outage_resumes_by_itself_at_the_time_it_names(tmp_path, monkeypatch):
    from wxtui.core.transport import RetryPolicy
    from wxtui.jobs import scheduler as scheduler_module
    from wxtui.jobs.events import PAUSED

    monkeypatch.setattr(scheduler_module, "MAX_ATTEMPTS", 1)  # the first failed send is an outage
    monkeypatch.setattr(scheduler_module, "OUTAGE_RESUME_AFTER_S", 0.5)
    async with demo_session(tmp_path) as session:
        session.client.transport.retry = RetryPolicy(base_delay=0.001, max_delay=0.01, transport_retries=0)
        emulator = session.emulator
        acct = emulator.account
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            journal = app.model.jobs.journal
            await pilot.press("A", "a")
            await settle(pilot)
            newsletter = tag_named(acct, "Newsletter")
            await tag_selection(pilot, "Newsletter",
                                before_confirm=lambda: emulator.faults.update(p_5xx=1.0))
            panel = screen.jobs_panel
            await until(pilot, lambda: panel.events and journal.job(max(panel.events)).state == PAUSED)
            job_id = max(panel.events)
            assert "resumes by itself at" in "\n".join(notifications(pilot))
            emulator.faults.update(p_5xx=0.0)  # the platform is back before the time named
            await until(pilot, lambda: journal.job(job_id).state == DONE)
            assert set(acct.tag_members(newsletter)) == set(acct.follower_openids())


async def test_quitting_mid_job_leaves_it_interrupted_and_the_next_start_offers_it(tmp_path):
    # Nobody cancelled it: it must not come back "cancelled", and the next start offers it.
    from wxtui.jobs.events import PAUSED
    from wxtui.jobs.scheduler import CLOSED_REASON

    async with demo_session(tmp_path, followers=2000) as session:  # 40 calls: more than go at once
        emulator = session.emulator
        acct = emulator.account
        newsletter = tag_named(acct, "Newsletter")
        emulator.faults.latency_ms = 300
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            journal = app.model.jobs.journal
            await pilot.press("A", "a")
            await settle(pilot)
            await tag_selection(pilot, "Newsletter")
            panel = screen.jobs_panel
            await until(pilot, lambda: panel.events and panel.events[max(panel.events)].calls_done >= 1)
            job_id = max(panel.events)
            await pilot.press("ctrl+q")
        record = journal.job(job_id)
        assert (record.state, record.reason) == (PAUSED, CLOSED_REASON)
        assert set(acct.tag_members(newsletter)) != set(acct.follower_openids())  # calls were left

        emulator.faults.latency_ms = 0
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            await until(pilot, lambda: job_id in screen.jobs_panel.events)
            assert screen.jobs_panel.events[job_id].message == "interrupted"
            assert any("interrupted when wxtui last stopped" in n for n in notifications(pilot))
            await pilot.press("j", "R")
            await until(pilot, lambda: journal.job(job_id).state == DONE)
            assert set(acct.tag_members(newsletter)) == set(acct.follower_openids())


@pytest.mark.parametrize("width", [80, 100])
async def test_the_jobs_panel_lines_up_titles_and_bars_of_every_job_at_any_width(width):
    """A running job with retries needs a briefer line than a finished one: the panel gives them
    all the same layout, so their bars and percentages sit in the same columns."""
    from textual.app import App

    from wxtui.jobs.events import DONE
    from wxtui.jobs.verify import VERIFIED, Verification
    from wxtui.ui.widgets.jobs_panel import JobsPanel

    class Panel(App):
        def compose(self):
            yield JobsPanel(id="jobs")

    app = Panel()
    async with app.run_test(size=(width, 12)) as pilot:
        panel = app.query_one(JobsPanel)
        panel.show_event(event(job_id=1, title='create tag "Zed" and tag 1 follower', state=DONE,
                               calls_done=40, targets_done=2000))
        panel.show_verification(Verification(job_id=1, state=VERIFIED, targets=1, sampled=1, checked=1))
        panel.show_event(event(job_id=2, title='tag "Zed" → 400 followers', rate=1873.0, eta_s=1, retries=1))
        await pilot.pause()

        def lines() -> list[str]:
            return [str(panel.get_option_at_index(i).prompt) for i in range(panel.option_count)]

        def columns(line: str) -> tuple[int, int]:
            start = min(i for i in (line.find("█"), line.find("░")) if i >= 0)
            return start, line.index("%")

        shown = lines()
        assert len(shown) == 2 and all(len(line) <= panel.scrollable_content_region.width for line in shown)
        assert "1 retry" in shown[0] and "✓ verified 1/1" in shown[1]
        assert columns(shown[0]) == columns(shown[1]), shown
        # A new event of the running job that needs a briefer line moves the other line too.
        panel.show_event(event(job_id=2, title='tag "Zed" → 400 followers', rate=1873.0, eta_s=7265,
                               retries=12345, failures_count=1234))
        await pilot.pause()
        shown = lines()
        assert columns(shown[0]) == columns(shown[1]), shown


def test_a_job_short_of_its_end_never_shows_a_full_bar_or_100_percent():
    from wxtui.ui.widgets.jobs_panel import bar, percent

    cancelled = event(state=CANCELLED, calls_done=240, calls_total=241, targets_done=11_950, targets_total=12_000,
                      message="cancelled")
    line = job_line(cancelled, 24, 100).plain
    assert " 99%" in line and "100%" not in line and "░" in line
    assert percent(0.996) == " 99%" and percent(1.0) == "100%" and percent(0.0) == "  0%"
    assert bar(0.999, 10) == "█" * 9 + "░" and bar(1.0, 10) == "█" * 10 and bar(0.0, 10) == "░" * 10


def test_a_job_waiting_out_a_backoff_says_when_it_retries():
    line = job_line(event(rate=0.1, eta_s=900, retries=3, retry_in_s=24.2), 24, 120).plain
    assert "retry in 25s" in line and "3 retries" in line
    assert "retry in" not in job_line(event(rate=20.0, eta_s=90), 24, 120).plain
