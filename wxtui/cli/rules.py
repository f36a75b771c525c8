"""`wxtui rules list|add|pause|resume|delete|run`: segments that keep themselves tagged.

A rule says that the followers of a saved segment carry a tag (and, with --remove-leavers, that
those who leave the segment lose it). `wxtui rules run` plans each active rule's difference as an
ordinary job (journaled, verified, undoable with `wxtui jobs undo`); without --yes it only shows
the plans. `wxtui sync` runs the automatic rules after a sync that finished.

Exit status (wxtui.cli.exit_status): 0 done (or nothing to change), 1 a rule's job failed or a
rule could not run (its segment or tag was deleted: listed), 2 bad input, or `run` without --yes
with something to change (nothing was sent), 3 a rule's job paused or was cancelled (resumable).
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from wxtui.cli import argtypes, exit_status

ORDER_HELP = ("Rules run one after another, each planned on the cache as the one before left it: a rule "
              "whose segment uses another rule's tag runs after that rule, otherwise in the order they were "
              "added. A follower in the segment of any rule giving the same tag is never untagged by another.")


def register(subparsers) -> None:
    from wxtui.cli.jobs import _account_options, _verify_options

    parser = subparsers.add_parser(
        "rules", help="segments that keep themselves tagged: list, add, pause, resume, delete, run",
        **exit_status.with_exit_status(description=(
            "Rules of the account: a saved segment whose followers carry a tag. After a sync, each rule's "
            "difference (followers of the segment without the tag; with --remove-leavers, holders of the "
            "tag who left it) is one ordinary job, undoable like any other. Automatic rules run after "
            "`wxtui sync`; the others when you run them. " + ORDER_HELP)))
    _account_options(parser)
    parser.set_defaults(func=cmd_rules, rules_command="list", json=False)
    sub = parser.add_subparsers(dest="rules_command", metavar="COMMAND")
    rule_ref = argtypes.bounded_text(200, "a rule")
    listing = sub.add_parser("list", help="every rule, its mode and its last run (the default)",
                             **exit_status.with_exit_status())
    listing.add_argument("--json", action="store_true", help="as JSON")
    add = sub.add_parser("add", help="give a segment a rule: its followers carry a tag",
                         **exit_status.with_exit_status(description=(
                             "Add a rule to a saved segment (or change the rule it has for that tag). "
                             "It asks before it runs unless --auto.")))
    add.add_argument("segment", type=argtypes.bounded_text(200, "a segment name"), metavar="SEGMENT",
                     help="a saved segment (see: wxtui segments list)")
    add.add_argument("--tag", required=True, type=argtypes.bounded_text(200, "a tag name"), metavar="NAME",
                     help="the tag its followers carry, by name (or id)")
    add.add_argument("--remove-leavers", action="store_true",
                     help="followers who leave the segment lose the tag")
    add.add_argument("--auto", action="store_true",
                     help="run after every sync without asking (default: the app asks; the command line "
                          "runs it with `wxtui rules run --yes`)")
    for name, text in (("pause", "pause a rule: it does nothing until resumed"),
                       ("resume", "resume a paused rule"),
                       ("delete", "delete a rule (its segment, tag and followers are not touched)")):
        p = sub.add_parser(name, help=text, **exit_status.with_exit_status(description=text[0].upper() + text[1:] + "."))
        p.add_argument("rule", type=rule_ref, metavar="RULE", help="its number (see: wxtui rules list), or its "
                       "segment's name when that segment has one rule")
    run = sub.add_parser("run", help="plan every active rule; with --yes, run them (for cron)",
                         **exit_status.with_exit_status(description=(
                             "Plan each active rule's job on the cache and show it; with --yes, run them one "
                             "after another. " + ORDER_HELP)))
    run.add_argument("rules", nargs="*", type=rule_ref, metavar="RULE", help="only these rules (default: all)")
    run.add_argument("--yes", "-y", action="store_true", help="run the jobs (without it nothing is sent)")
    run.add_argument("--json", action="store_true", help="the plans (and jobs) as JSON")
    run.add_argument("--concurrency", type=argtypes.positive_int, metavar="N",
                     help="calls in flight (default: the account's)")
    _verify_options(run)
    for p in sub.choices.values():
        _account_options(p, suppress=True)


def cmd_rules(args: argparse.Namespace) -> int:
    from wxtui.cli.jobs_run import run_on_account
    from wxtui.store.rules import RuleError

    return run_on_account(args, lambda jobs: _rules(args, jobs), (RuleError,))


async def _rules(args, jobs) -> int:
    command = args.rules_command or "list"
    if command == "list":
        return _list(jobs, args.json)
    if command == "add":
        return await _add(jobs, args)
    if command == "run":
        return await run_rules(jobs, chosen=args.rules, yes=args.yes, as_json=args.json)
    return _change(jobs, command, args.rule)


def _list(jobs, as_json: bool) -> int:
    import time

    from wxtui.core.outside_text import echo, visible, visible_json
    from wxtui.jobs.rules import health
    from wxtui.store.rules import Rules

    rules = Rules(jobs.store).list()
    problems = {r.id: health(jobs.store, r, free_tags=jobs.family.capabilities.free_tags) for r in rules}
    if as_json:
        print(visible_json([{"id": r.id, "segment": r.segment, "tag": r.tag_name, "tagid": r.tagid,
                             "remove_leavers": r.remove_leavers, "mode": r.mode, "problem": problems[r.id],
                             "last_run_at": r.last_run_at, "last_job": r.last_job, "last_result": r.last_result}
                            for r in rules], indent=2))
        return exit_status.OK
    if not rules:
        echo('No rules yet. Add one: wxtui rules add "SEGMENT" --tag NAME [--remove-leavers] [--auto]')
        return exit_status.OK
    echo(f"{'#':>3}  {'MODE':<9}  RULE")
    for r in rules:
        echo(f"{r.id:>3}  {r.mode:<9}  {visible(r.describe())}")
        if problems[r.id]:
            echo(f"{'':>3}  {'':<9}  problem: {visible(problems[r.id])}")
        if r.last_run_at:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.last_run_at))
            echo(f"{'':>3}  {'':<9}  last run {when}: {visible(r.last_result)}")
    return exit_status.OK


async def _add(jobs, args) -> int:
    from wxtui.cli.jobs_run import UsageError, _tag_id
    from wxtui.core.outside_text import echo, visible
    from wxtui.jobs.intents import CreateTag
    from wxtui.store.rules import Rules

    if jobs.family.capabilities.free_tags and args.tag not in jobs.store.tag_names().values():
        # Tags are text on each member there: a new one is numbered in the cache by planning it.
        created = await jobs.plan(CreateTag(args.tag))
        if not created.ok:
            raise UsageError("; ".join(e.message for e in created.errors))
    tagid = _tag_id(jobs.store, args.tag)
    if tagid in jobs.family.reserved_tags and tagid != jobs.family.star_tag:
        raise UsageError(f"the tag {visible(repr(args.tag))} is reserved by {jobs.family.nouns.service}")
    rule, created = Rules(jobs.store).add(args.segment, tagid, remove_leavers=args.remove_leavers,
                                          automatic=args.auto)
    verb = "Added" if created else "Updated"
    echo(f"{verb} rule #{rule.id}: {visible(rule.describe())}; {_mode_words(rule.mode)}.")
    return exit_status.OK


def _mode_words(mode: str) -> str:
    return {"automatic": "it runs after every sync",
            "ask": "it runs when you confirm it (the app asks after a sync; wxtui rules run --yes)",
            "paused": "it is paused"}[mode]


def _change(jobs, command: str, text: str) -> int:
    from wxtui.core.outside_text import echo, visible
    from wxtui.store.rules import Rules

    rules = Rules(jobs.store)
    rule = rules.find(text)
    if command == "delete":
        rules.delete(rule.id)
        echo(f"Deleted rule #{rule.id}: {visible(rule.describe())}.")
        return exit_status.OK
    changed = rules.set_paused(rule.id, command == "pause")
    echo(f"Rule #{changed.id} ({visible(changed.describe())}): {_mode_words(changed.mode)}.")
    return exit_status.OK


async def run_rules(jobs, *, chosen=(), yes: bool, as_json: bool = False, automatic_only: bool = False) -> int:
    """Plan the active rules (the chosen ones, or the automatic ones) in the run's order; with
    yes, run each job before planning the next. Returns the exit status."""
    from wxtui.cli.jobs_run import _report, _run_with_progress
    from wxtui.cli.jobs_verify import verify_after
    from wxtui.core.outside_text import echo, visible, visible_json
    from wxtui.jobs.rules import RuleRunner
    from wxtui.store.rules import Rules

    runner = RuleRunner(jobs)
    ids = None
    if chosen:
        found = Rules(jobs.store)
        ids = [found.find(text).id for text in chosen]
        paused = [found.get(i) for i in ids if found.get(i).paused]
        if paused:
            from wxtui.core.errors import UsageError

            raise UsageError(f"rule #{paused[0].id} is paused: resume it first (wxtui rules resume {paused[0].id})")
    statuses: list[int] = []
    results: list[dict] = []
    waiting = 0
    out = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    with out:
        async for planned in runner.each(automatic_only=automatic_only, chosen=ids):
            entry = {"rule": planned.rule.id, "segment": planned.rule.segment, "tag": planned.tag_name,
                     "mode": planned.rule.mode, "remove_leavers": planned.rule.remove_leavers,
                     "add": planned.add, "remove": planned.remove, "problem": planned.problem,
                     "note": planned.note, "plan": planned.plan.summary() if planned.plan else None,
                     "job": None, "state": None}
            results.append(entry)
            echo(f"Rule #{planned.rule.id}: {visible(planned.rule.describe(planned.tag_name))} [{planned.rule.mode}]")
            if planned.note:
                echo(f"  note: {visible(planned.note)}")
            if planned.problem or planned.plan is None or not planned.plan.ok:
                echo(f"  {visible(planned.outcome())}")
                runner.record(planned)
                if planned.problem or planned.plan is not None:
                    statuses.append(exit_status.FAILED)
                continue
            for line in planned.plan.describe():
                echo(f"  {line}")
            if not yes:
                waiting += 1
                continue
            job_id = runner.submit(planned)
            entry["job"] = job_id
            event = await _run_with_progress(jobs, job_id)
            entry["state"] = event.state
            statuses.append(await verify_after(jobs, event, _report(jobs, event), exit_status.FAILED))
    if as_json:
        print(visible_json(results, indent=2))
    if not results and not automatic_only:
        echo("No active rule to run (see: wxtui rules list).", err=as_json)
    if waiting:
        echo(f"Nothing was sent: add --yes to run {'this rule' if waiting == 1 else f'these {waiting} rules'} "
             "(each is planned again, after the ones before it have run).", err=True)
        statuses.append(exit_status.NOT_DONE)
    return _worst(statuses)


def _worst(statuses: list[int]) -> int:
    """One status for several jobs: a failure first, then what can resume, then nothing sent."""
    for status in (exit_status.FAILED, exit_status.RESUMABLE, exit_status.NOT_DONE):
        if status in statuses:
            return status
    return exit_status.OK
