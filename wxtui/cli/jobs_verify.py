"""Verification on the command line: after every job a verb runs, `wxtui jobs verify ID
[--repair]`, and the verification line of `wxtui jobs show ID`."""

from __future__ import annotations

import argparse
from typing import Any

from wxtui.core.outside_text import echo
from wxtui.jobs.events import DONE, JobEvent
from wxtui.jobs.verify import INCOMPLETE, MISMATCHED, Verification, VerifySettings, settings_of

SHOWN_MISMATCHES = 20


def settings_for(profile: Any, args: argparse.Namespace) -> VerifySettings:
    """The account's settings (its verify_percent, verify_max_calls), overridden by the flags."""
    return settings_of(profile, getattr(args, "verify_percent", None), getattr(args, "verify_max_calls", None))


def print_verification(jobs: Any, found: Verification, indent: str = "") -> None:
    echo(f"{indent}Verification of job #{found.job_id}: {found.summary()}.")
    if found.mismatches:
        for line in jobs.mismatch_lines(found, SHOWN_MISMATCHES):
            echo(f"{indent}  {line}")
        more = len(found.mismatches) - SHOWN_MISMATCHES
        if more > 0:
            echo(f"{indent}  ... and {more:,} more")
    if found.repair_job:
        echo(f"{indent}  repaired by job #{found.repair_job}")
    elif found.state == MISMATCHED:
        echo(f"{indent}  Repair them: wxtui jobs verify {found.job_id} --repair")


async def verify_after(jobs: Any, event: JobEvent, status: int, exit_failed: int) -> int:
    """After a job that ended done: read a sample back (unless verification is off); a mismatch
    makes the command's exit status that of a failure."""
    if event.state != DONE or jobs.verify_settings.off:
        return status
    found = await jobs.verify(event.job_id)
    if found is None:
        return status
    print_verification(jobs, found)
    return exit_failed if found.state == MISMATCHED else status


async def verify_command(jobs: Any, job_id: int, args: argparse.Namespace, confirm_and_run,
                         exit_codes: tuple[int, int]) -> int:
    """`wxtui jobs verify ID [--sample P] [--repair]`: exit 0 when nothing was found wrong, 1 on
    mismatches or reads that could not be made (the repair's own status with --repair)."""
    exit_ok, exit_failed = exit_codes
    latest = jobs.verification(job_id)
    if args.repair and getattr(args, "verify_percent", None) is None and latest is not None \
            and latest.state == MISMATCHED and latest.repair_job is None:
        # The mismatches already found are repaired as they are (the command printed after a
        # verification says just this): verifying again on the default 1% sample would read
        # fewer followers than a --sample 100 did and repair only the mismatches among them.
        print_verification(jobs, latest)
        return await confirm_and_run(jobs, jobs.plan_repair(job_id), args)
    settings = jobs.verify_settings
    if settings.off:  # asked for in so many words: an account's "off" means after jobs
        settings = VerifySettings(max_calls=settings.max_calls)
    found = await jobs.verify(job_id, settings)
    print_verification(jobs, found)
    if found.state == INCOMPLETE:
        return exit_failed
    if found.state != MISMATCHED:
        return exit_ok
    if not args.repair:
        return exit_failed
    return await confirm_and_run(jobs, jobs.plan_repair(job_id), args)


def show_lines(jobs: Any, job_id: int) -> None:
    """The verification part of `wxtui jobs show`."""
    found = jobs.verification(job_id)
    if found is None:
        echo("  verification: none yet (wxtui jobs verify " + str(job_id) + ")")
        return
    print_verification(jobs, found, indent="  ")
