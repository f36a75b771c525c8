"""Pilot tests of verification in the app: after a job the jobs panel says what reading its
followers back found; the job's detail lists mismatches and repairs them with a job."""

from __future__ import annotations

from ui_fixtures import app_for, demo_session, ready, settle, tag_named, wait_for_screen
from wxtui.jobs.verify import MISMATCHED, VERIFIED
from wxtui.ui.screens.confirm import ConfirmScreen
from wxtui.ui.screens.job_detail import JobDetailScreen
from wxtui.ui.screens.prompts import TagPickerScreen

SIZE = (120, 30)


async def tag_rows(pilot, screen, n: int, tag: str) -> list[str]:
    await pilot.press("space", *(["shift+down"] * (n - 1)))
    await settle(pilot)
    openids = [screen.table.source.row(i).openid for i in range(n)]
    await pilot.press("t")
    await wait_for_screen(pilot, TagPickerScreen)
    await pilot.press(*tag, "enter")
    await wait_for_screen(pilot, ConfirmScreen)
    await pilot.press("y")
    await settle(pilot)
    return openids


def panel_text(screen) -> str:
    panel = screen.jobs_panel
    return "\n".join(str(panel.get_option_at_index(i).prompt) for i in range(panel.option_count))


async def test_a_clean_job_is_marked_verified_in_the_jobs_panel(tmp_path):
    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            await tag_rows(pilot, screen, 12, "Staff")
            job_id = next(iter(screen.jobs_panel.events))
            found = app.model.verification(job_id)
            assert found is not None and found.state == VERIFIED and found.checked == found.sampled > 0
            assert f"✓ verified {found.checked}/{found.sampled}" in panel_text(screen)


async def test_mismatches_are_listed_in_the_detail_and_repaired(tmp_path):
    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        staff = tag_named(acct, "Staff")
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            session.emulator.faults.update(drop_effect=0.5, seed=3)
            openids = await tag_rows(pilot, screen, 10, "Staff")  # at most 10: all are read back
            session.emulator.faults.update(drop_effect=0)
            missing = [o for o in openids if staff not in acct.tags_of(o)]
            assert missing
            job_id = next(iter(screen.jobs_panel.events))
            found = app.model.verification(job_id)
            assert found.state == MISMATCHED and {m.target for m in found.mismatches} == set(missing)
            assert f"✗ {len(missing)} of {found.checked} mismatched" in panel_text(screen)
            assert any("do not match" in n.message for n in app._notifications)
            # The cache says what WeChat says, not what the job meant.
            assert all(staff not in ids for ids in session.store.tag_ids_of(missing).values())

            screen.jobs_panel.focus()
            await pilot.press("enter")
            detail = await wait_for_screen(pilot, JobDetailScreen)
            assert "do not match" in str(detail.query_one("#verification").render())
            assert missing[0] in str(detail.query_one("#mismatches").render())
            await pilot.press("p")
            dialog = await wait_for_screen(pilot, ConfirmScreen)
            assert dialog.summary.count == len(missing) and "mismatches of job" in dialog.summary.target
            await pilot.press("y")
            await settle(pilot)
            assert all(staff in acct.tags_of(o) for o in openids)
            assert app.model.verification(job_id).repair_job is not None
            assert app.model.verification(app.model.verification(job_id).repair_job).state == VERIFIED
