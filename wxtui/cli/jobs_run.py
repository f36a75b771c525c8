"""What the bulk-action commands do once parsed (wxtui.cli.jobs keeps `wxtui --help` light).

Every verb is the same for every family: the account's family (wxtui.family) reads the ids,
plans the intent and runs the calls; what it cannot do is refused before anything is sent."""

from __future__ import annotations

import argparse
import asyncio
import calendar
import contextlib
import signal
import sys
import time
from pathlib import Path

from wxtui.cli import exit_status
from wxtui.cli.argtypes import SQLITE_MAX, parse_int, shown
from wxtui.core.errors import UsageError, WxtuiError
from wxtui.core.outside_text import echo, outside_text_column, visible, visible_json, warn
from wxtui.jobs.events import CANCELLED, DONE, PAUSED, JobEvent, format_duration, is_quota_reset
from wxtui.jobs.intents import (BlacklistFollowers, ClearTags, CreateTag, Followers, TagFollowers,
                                UnblacklistFollowers, UntagFollowers)
from wxtui.jobs.locks import JobBusy
from wxtui.jobs.plans import Plan, count_of
from wxtui.jobs.service import JobService
from wxtui.store.filters import Filter
from wxtui.cli.jobs_verify import settings_for, show_lines, verify_after, verify_command

SHOWN_FAILURES = 50
EXIT_OK, EXIT_FAILED, EXIT_NOT_SENT, EXIT_RESUMABLE = (
    exit_status.OK, exit_status.FAILED, exit_status.NOT_DONE, exit_status.RESUMABLE)


# -- opening the account ------------------------------------------------------------------------

def headless_profile(args: argparse.Namespace):
    """The profile a command acts on (None for --demo), after the config's warnings (a credential
    written in a profile, say) are shown; UsageError saying how to add one when there is none.
    The demo is never a fallback: it is used only when asked for."""
    from wxtui.core.config import ConfigError, load_config
    from wxtui.core.session import NoAccountError, configured_profile

    if getattr(args, "demo", False):
        return None
    try:
        config = load_config()
        for warning in config.warnings:
            warn(f"warning: {warning}")
        return configured_profile(getattr(args, "account", None), config)
    except (NoAccountError, ConfigError) as exc:
        raise UsageError(str(exc)) from None


def _family(profile, args: argparse.Namespace):
    """The family of the account the command acts on (the demo's, for --demo)."""
    from wxtui.family import DEFAULT_FAMILY, family, family_for

    if profile is not None:
        return family_for(profile)
    return family(getattr(args, "family", None) or DEFAULT_FAMILY)


def run_on_account(args: argparse.Namespace, body, refused: tuple[type[Exception], ...] = ()) -> int:
    """Run `await body(jobs)` on the command's account (its JobService); a usage error, one of
    `refused` or a wxtui error is printed as one line and exits 2 (nothing done)."""
    import asyncio

    from wxtui.core.errors import WxtuiError
    from wxtui.core.outside_text import warn

    async def on_account(profile) -> int:
        async with _account(args, profile) as jobs:
            return await body(jobs)

    try:
        return asyncio.run(on_account(headless_profile(args)))
    except (UsageError, WxtuiError, *refused) as exc:
        warn(exc)
        return exit_status.NOT_DONE


@contextlib.asynccontextmanager
async def _account(args: argparse.Namespace, profile):
    from wxtui.core.session import NoAccountError, open_session

    demo = profile is None
    async with contextlib.AsyncExitStack() as stack:
        try:
            session = await stack.enter_async_context(open_session(
                None if demo else profile.name, demo=demo, family=getattr(args, "family", None),
                followers=getattr(args, "demo_followers", 10_000),
                max_in_flight=getattr(args, "concurrency", None)))
        except (NoAccountError, WxtuiError) as exc:
            raise UsageError(str(exc)) from None
        if session.is_demo:
            echo(f"Syncing the demo account ({session.label})...", err=True)
            await session.family.sync(session.client, session.store)
        jobs = JobService(session.client, session.store, family=session.family,
                          concurrency=getattr(args, "concurrency", None),
                          verify=settings_for(profile, args))
        stack.push_async_callback(jobs.aclose)
        yield jobs


# -- the actions --------------------------------------------------------------------------------

def run_action(args: argparse.Namespace) -> int:
    try:
        profile = headless_profile(args)
        family = _family(profile, args)
        _check_capability(args, family)
        ids, junk = _explicit_ids(args, family)
        return asyncio.run(_action(args, profile, ids, junk, family))
    except (UsageError, WxtuiError) as exc:  # bad input, or the service refused while planning
        warn(exc)
        return EXIT_NOT_SENT


def _check_capability(args, family) -> None:
    """What the account's family cannot do is said plainly, before anything is opened."""
    nouns = family.nouns
    if args.verb in ("blacklist", "unblacklist") and not family.capabilities.blacklist:
        raise UsageError(f"{nouns.service} has no blacklist: nothing was sent")
    if not family.capabilities.statistics and (args.scene or args.followed_from or args.followed_to):
        raise UsageError(f"{nouns.service} keeps no subscribe scene or date of its {nouns.members}: "
                         "--scene, --followed-from and --followed-to do not apply")
    if args.blacklisted is not None and not family.capabilities.blacklist:
        raise UsageError(f"{nouns.service} has no blacklist: --blacklisted and --not-blacklisted do not apply")


def _explicit_ids(args, family) -> tuple[list[str] | None, list[tuple[int, str]]]:
    """Member ids of --file or --stdin (None for the other sources), and the junk lines, reported."""
    nouns = family.nouns
    sources = [name for name, given in (("--file", args.file), ("--stdin", args.stdin),
                                        ("--selection", args.selection), ("--everyone", args.everyone),
                                        ("--segment", args.segment), ("--query", args.query)) if given]
    filtering = _filter_given(args)
    if len(sources) > 1 or (sources and filtering):
        raise UsageError(f"give the {nouns.members} one way: --file, --stdin, --selection, --segment, --query, "
                         "--everyone or filter flags")
    if not sources and not filtering:
        raise UsageError(f"which {nouns.members}? give --file PATH, --stdin, --selection NAME, --segment NAME, "
                         "--query QUERY, filter flags (--with-tag, --untagged, ...) or --everyone")
    if not args.file and not args.stdin:
        return None, []
    from wxtui.core.listfile import ListFileError, read_lines

    try:
        ids, junk = family.parse_ids(read_lines(args.file if args.file else None))
    except ListFileError as exc:
        raise UsageError(str(exc)) from None
    label = visible(args.file) if args.file else "<stdin>"
    for number, line in junk[:SHOWN_FAILURES]:
        warn(f"{label}:{number}: {family.id_help()}, not sent: {shown(line)}")
    if len(junk) > SHOWN_FAILURES:
        warn(f"... and {len(junk) - SHOWN_FAILURES:,} more lines that are not {nouns.member_ids}")
    if not ids:
        raise UsageError(f"no {nouns.member_id} in {label}")
    return ids, junk


def _filter_given(args) -> bool:
    return bool(args.with_tag or args.without_tag or args.untagged or args.blacklisted is not None
                or args.text or args.scene or args.followed_from or args.followed_to)


async def _action(args, profile, openids: list[str] | None, junk: list, family) -> int:
    async with _account(args, profile) as jobs:
        store = jobs.store
        followers = _followers(args, store, openids)
        verb = args.verb
        if verb == "tag" and family.capabilities.free_tags:
            # Tags are text on each member there: a new one is numbered in the cache by planning it.
            created = await jobs.plan(CreateTag(args.tag))
            if not created.ok:
                raise UsageError("; ".join(e.message for e in created.errors))
        if verb in ("tag", "untag"):
            tagid = _tag_id(store, args.tag)
            intent = (TagFollowers if verb == "tag" else UntagFollowers)(tagid, followers)
        else:
            intent = {"clear-tags": ClearTags, "blacklist": BlacklistFollowers,
                      "unblacklist": UnblacklistFollowers}[verb](followers)
        plan = await jobs.plan(intent)
        if not plan.calls and followers.filter is not None and (why := store.why_nobody(followers.filter)):
            warn(why)
        status = await _confirm_and_run(jobs, plan, args)
    if status == EXIT_OK and junk:
        warn(f"{len(junk):,} line(s) were not {family.nouns.member_ids} and were not sent (listed above)")
        return EXIT_FAILED
    return status


async def _confirm_and_run(jobs: JobService, plan: Plan, args) -> int:
    if getattr(args, "json", False) and args.dry_run:
        print(visible_json(plan.summary(), indent=2))
    else:
        for line in plan.describe():
            echo(line)
    if not plan.ok:
        return EXIT_NOT_SENT
    if getattr(args, "dry_run", False):
        return EXIT_OK
    if not plan.calls:
        echo("Nothing to send.")
        return EXIT_OK
    if not args.yes and not _confirmed(f"Send {len(plan.calls):,} calls?"):
        echo("Not sent.")
        return EXIT_NOT_SENT
    job_id = jobs.submit(plan)
    event = await _run_with_progress(jobs, job_id)
    return await verify_after(jobs, event, _report(jobs, event), EXIT_FAILED)


def _confirmed(question: str) -> bool:
    """Ask on the terminal (standard input may hold the openids); no terminal: refuse."""
    try:
        with open("/dev/tty", "r+", encoding="utf-8") as tty:
            tty.write(f"{question} [y/N] ")
            tty.flush()
            return tty.readline().strip().lower() in ("y", "yes")
    except OSError:
        warn("no terminal to confirm on: add --yes to send")
        return False


def _followers(args, store, openids: list[str] | None) -> Followers:
    if openids is not None:
        return Followers.of(openids)
    if args.selection:
        from wxtui.store.selections import Selection

        saved = Selection.names(store)
        if args.selection not in saved:
            known = ", ".join(visible(name) for name in saved) or "none"
            raise UsageError(f"no selection named {visible(repr(args.selection))} in the cache "
                             f"(saved: {known}; selections are saved in the app)")
        return Followers(selection=args.selection)
    if args.everyone:
        return Followers(filter=Filter())
    if args.segment or args.query:
        from wxtui.store.segments import SegmentError, segment_or_query_filter

        try:
            return Followers(filter=segment_or_query_filter(store, args.segment, args.query))
        except SegmentError as exc:
            raise UsageError(str(exc)) from None
    scenes = {s.upper() if s.upper().startswith("ADD_SCENE_") else "ADD_SCENE_" + s.upper() for s in args.scene}
    return Followers(filter=Filter(
        tags={_tag_id(store, t) for t in args.with_tag}, match_all_tags=args.all_tags,
        not_tags={_tag_id(store, t) for t in args.without_tag}, untagged=args.untagged,
        blacklisted=args.blacklisted, text=args.text, scenes=scenes,
        subscribed_from=_day(args.followed_from), subscribed_to=_day(args.followed_to)))


def _day(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%d"))
    except ValueError:
        raise UsageError(f"not a day (YYYY-MM-DD): {shown(text)}") from None


def _tag_id(store, text: str) -> int:
    names = store.tag_names()
    exact = [t for t, name in names.items() if name == text]
    folded = [t for t, name in names.items() if name.casefold() == text.strip().casefold()]
    if exact or len(folded) == 1:
        return (exact or folded)[0]
    try:
        tagid = parse_int(text, low=0, high=SQLITE_MAX)
    except ValueError:
        tagid = None
    if tagid is not None and tagid in names:
        return tagid
    known = ", ".join(visible(name) for name in sorted(names.values())) or "none: sync the account first"
    raise UsageError(f"no tag named {shown(text)} in the cache (tags: {known})")


# -- running with a progress bar ----------------------------------------------------------------

async def _run_with_progress(jobs: JobService, job_id: int) -> JobEvent:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    console = Console(stderr=True, markup=False, highlight=False)
    loop = asyncio.get_running_loop()

    def interrupt() -> None:
        console.print("Cancelling after the calls in flight (Ctrl-C again to quit at once)...")
        jobs.cancel(job_id)
        loop.remove_signal_handler(signal.SIGINT)

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, interrupt)
    record = jobs.job(job_id)
    # The description is the job's title, which holds tag names: outside text, never markup.
    with Progress(TextColumn("#{task.fields[job]}", style="bold", markup=False), outside_text_column(),
                  BarColumn(), TaskProgressColumn(), TextColumn("{task.fields[info]}", markup=False),
                  console=console) as progress:
        task = progress.add_task(record.title, total=None, job=job_id, info="")

        def show(event: JobEvent) -> None:
            progress.update(task, completed=event.calls_done + event.calls_failed, total=event.calls_total,
                            info=event.progress_text())

        unsubscribe = jobs.subscribe(show, job_id)
        try:
            final = await jobs.start(job_id)
        finally:
            unsubscribe()
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
        show(final)
    return final


def _report(jobs: JobService, event: JobEvent) -> int:
    job = f"#{event.job_id}"
    record = jobs.job(event.job_id)
    unit = (record.plan if record is not None else {}).get("unit")
    if unit:  # the plan's unit, as its plan line said it
        changed = event.targets_done if event.targets_total else event.calls_done
        changes = f"{count_of(changed, unit)} changed"
    else:
        changes = f"{event.targets_done:,} changes"
    summary = f"{event.calls_done:,} calls done, {changes}, {event.retries:,} retries"
    if event.failures_count:
        failures = jobs.journal.failures(event.job_id)
        echo(f"{len(failures):,} could not be changed:")
        for f in failures:
            echo(_failure_line(f, "  "))
    if event.state == DONE:
        echo(f"Job {job} done: {summary}.")
        return EXIT_FAILED if event.failures_count else EXIT_OK
    if event.state in (PAUSED, CANCELLED):
        echo(f"Job {job} {event.state}: {event.message.rstrip('.')}. {summary}.")
        echo(f"Resume it{_when(event.resume_after)}: wxtui jobs resume {event.job_id}")
        return EXIT_RESUMABLE
    echo(f"Job {job} stopped: {event.message.rstrip('.')}. {summary}.")
    echo(f"Once fixed, resume it: wxtui jobs resume {event.job_id}")
    return EXIT_FAILED


def _failure_line(failure, indent: str) -> str:
    errcode = failure.errcode if failure.errcode is not None else "-"
    return f"{indent}{failure.target or '-'}  {errcode}  {failure.message}"


def _when(resume_after: float | None) -> str:
    """' after 2026-12-07 00:00 China time', ' after 20:35 (in 5 min)': when a resume is worth it."""
    if not resume_after:
        return ""
    if is_quota_reset(resume_after):
        return " after " + time.strftime("%Y-%m-%d %H:%M", time.gmtime(resume_after + 8 * 3600)) + " China time"
    minutes = max(1, round((resume_after - time.time()) / 60))
    return f" after {time.strftime('%H:%M', time.localtime(resume_after))} (in {minutes} min)"


# -- wxtui jobs -----------------------------------------------------------------------------------

def run_jobs(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_jobs(args, headless_profile(args)))
    except (UsageError, WxtuiError) as exc:
        warn(exc)
        return EXIT_NOT_SENT


async def _jobs(args, profile) -> int:
    command = args.jobs_command or "list"
    async with _account(args, profile) as jobs:
        if command == "list":
            return _list(jobs, args.limit)
        record = jobs.job(args.job_id)
        if record is None:
            raise UsageError(f"no job {args.job_id} (see: wxtui jobs list)")
        if command == "show":
            return _show(jobs, args.job_id, args.all)
        if command == "resume":
            if record.state == DONE:
                echo(f"Job #{record.id} is done; nothing to resume.")
                return EXIT_OK
            try:
                event = await _run_with_progress(jobs, record.id)
                return await verify_after(jobs, event, _report(jobs, event), EXIT_FAILED)
            except JobBusy as exc:
                raise UsageError(f"{exc}; cancel it there, or: wxtui jobs cancel {record.id}") from None
        if command == "undo":
            return await _confirm_and_run(jobs, jobs.plan_undo(record.id), args)
        if command == "verify":
            if record.state == "running" and record.id in jobs.scheduler.running():
                raise UsageError(f"job {record.id} is running: verify it once it has ended")
            return await verify_command(jobs, record.id, args, _confirm_and_run, (EXIT_OK, EXIT_FAILED))
        return await _cancel(jobs, record.id)


def _list(jobs: JobService, limit: int) -> int:
    records = jobs.jobs(limit)
    if not records:
        echo("No jobs yet.")
        return EXIT_OK
    echo(f"{'ID':>5}  {'STATE':<11}  {'CALLS':>15}  {'FAILED':>6}  {'CREATED':<16}  TITLE")
    for record in records:
        status = jobs.status(record.id)
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.created_at))
        calls = f"{status.calls_done + status.calls_failed:,}/{status.calls_total:,}"
        echo(f"{record.id:>5}  {jobs.shown_state(record):<11}  {calls:>15}  {status.failures_count:>6,}  {created:<16}  "
             f"{record.title}")
    return EXIT_OK


def _show(jobs: JobService, job_id: int, show_all: bool) -> int:
    record = jobs.job(job_id)
    status = jobs.status(job_id)
    echo(f"Job #{record.id}: {record.title}")
    state = jobs.shown_state(record)
    if state != record.state:  # its process was killed: nothing runs it
        echo(f"  state: {state} (resume it with: wxtui jobs resume {record.id})")
    else:
        echo(f"  state: {state}" + (f" ({record.reason})" if record.reason else ""))
    if record.undo_of:
        echo(f"  undoes job #{record.undo_of}")
    echo(f"  {status.progress_text()}")
    plan = record.plan
    if plan:
        ops = ", ".join(f"{n:,} {op}" for op, n in plan.get("calls_by_op", {}).items())
        echo(f"  plan: {plan.get('targets', 0):,} changes ({ops}); {plan.get('noops', 0):,} skipped as already "
              f"done; estimated {format_duration(plan.get('estimated_s', 0))}")
    for label, when in (("created", record.created_at), ("started", record.started_at),
                        ("finished", record.finished_at)):
        if when:
            echo(f"  {label}: {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(when))}")
    show_lines(jobs, job_id)
    failures = jobs.journal.failures(job_id, None if show_all else SHOWN_FAILURES)
    if failures:
        echo(f"  failures ({status.failures_count:,}):")
        for f in failures:
            echo(_failure_line(f, "    "))
        if len(failures) < status.failures_count:
            echo(f"    ... and {status.failures_count - len(failures):,} more (--all)")
    return EXIT_FAILED if status.failures_count else EXIT_OK


async def _cancel(jobs: JobService, job_id: int) -> int:
    if not jobs.cancel(job_id):
        echo(f"Job #{job_id} is done; nothing to cancel.")
        return EXIT_OK
    # Another process may be running it: it reads the request within a second.
    for _ in range(100):
        state = jobs.job(job_id).state
        if state != "running":
            echo(f"Job #{job_id} {state}; resume it with: wxtui jobs resume {job_id}")
            return EXIT_OK
        await asyncio.sleep(0.1)
    echo(f"Job #{job_id} was asked to stop but still runs; it stops after its calls in flight.")
    return EXIT_FAILED
