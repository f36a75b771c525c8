"""`wxtui segments list|show|save|delete`: the audiences saved in an account's cache.

A segment is a query (see `wxtui segments --help` or `?` in the app's filter bar) saved under a
name; every bulk action takes one with `--segment NAME`, or an unsaved query with `--query`.
Exit status (wxtui.cli.exit_status): 0 done, 2 bad input or no such segment.
"""

from __future__ import annotations

import argparse

from wxtui.cli import argtypes, exit_status

SEGMENT_HELP = ("Queries are terms that must all hold: tag:VIP, tag:A|B (any), -tag:Staff, untagged, "
                "blacklisted, -blacklisted, scene:qr_code, followed:2024-01-01..2024-06-30, lang:zh_CN, "
                'and text (remark contains it, or openid starts with it). Quote names with spaces: tag:"Big spenders".')


def register(subparsers) -> None:
    from wxtui.cli.jobs import _account_options

    parser = subparsers.add_parser(
        "segments", help="saved audiences: list, show, save or delete one",
        **exit_status.with_exit_status(description="Segments saved in the account's cache. " + SEGMENT_HELP))
    _account_options(parser)
    parser.set_defaults(func=cmd_segments, segments_command="list", json=False)
    sub = parser.add_subparsers(dest="segments_command", metavar="COMMAND")
    name = argtypes.bounded_text(200, "a segment name")
    listing = sub.add_parser("list", help="every segment with its count and query (the default)",
                             **exit_status.with_exit_status())
    listing.add_argument("--json", action="store_true", help="as JSON")
    show = sub.add_parser("show", help="a segment's query, what it means, its count and first followers",
                          **exit_status.with_exit_status())
    show.add_argument("name", type=name, metavar="NAME")
    show.add_argument("--json", action="store_true", help="as JSON")
    save = sub.add_parser("save", help="save a query under a name (replacing the segment of that name)",
                          **exit_status.with_exit_status(description="Save a query as a segment. " + SEGMENT_HELP))
    save.add_argument("name", type=name, metavar="NAME")
    save.add_argument("query", type=argtypes.bounded_text(argtypes.MAX_TEXT, "the query"), metavar="QUERY")
    delete = sub.add_parser("delete", help="delete a segment (its followers are not touched)",
                            **exit_status.with_exit_status())
    delete.add_argument("name", type=name, metavar="NAME")
    for p in sub.choices.values():
        _account_options(p, suppress=True)


def cmd_segments(args: argparse.Namespace) -> int:
    from wxtui.cli.jobs_run import run_on_account
    from wxtui.store.segments import SegmentError

    async def on_store(jobs) -> int:
        return _run(args, jobs.store)

    return run_on_account(args, on_store, (SegmentError,))


def _run(args, store) -> int:
    from wxtui.core.outside_text import echo, visible, visible_json
    from wxtui.store.query import format, parse
    from wxtui.store.segments import SegmentError, Segments, query_problem

    segments = Segments(store)
    names = store.tag_names()
    command = args.segments_command or "list"
    if command == "list":
        rows = [(s, segments.count(s)) for s in segments.list()]
        if args.json:
            print(visible_json([{"name": s.name, "query": format(s.filter, names), "count": n} for s, n in rows],
                               indent=2))
        elif not rows:
            echo("No segments yet. Save one: wxtui segments save NAME 'tag:VIP -blacklisted'")
        else:
            width = max(len("NAME"), *(len(visible(s.name)) for s, _ in rows))
            echo(f"{'NAME':<{width}}  {'COUNT':>9}  QUERY")
            for s, n in rows:
                echo(f"{visible(s.name):<{width}}  {n:>9,}  {format(s.filter, names)}")
        return exit_status.OK
    if command == "save":
        parsed = parse(args.query, names)
        if parsed.error is not None:
            raise SegmentError(query_problem(args.query, parsed.error))
        saved = segments.save(args.name, parsed.filter)
        echo(f"Saved segment {visible(saved.name)}: {format(saved.filter, names)} "
             f"({segments.count(saved):,} followers now)")
        return exit_status.OK
    found = segments.find(args.name)
    if found is None:
        known = ", ".join(visible(s.name) for s in segments.list()) or "none"
        raise SegmentError(f"no segment named {visible(repr(args.name))} (saved: {known})")
    if command == "delete":
        from wxtui.store.rules import Rules, orphaned_note

        segments.delete(found.name)
        echo(f"Deleted segment {visible(found.name)}.")
        note = orphaned_note(found.name, Rules(store).list())
        if note:
            echo(note)
        return exit_status.OK
    view = store.view(found.filter)
    count = view.count()
    first = [r.openid for r in view.first_rows(10)]
    if args.json:
        print(visible_json({"name": found.name, "query": format(found.filter, names),
                            "means": found.filter.describe(names), "count": count, "first": first}, indent=2))
        return exit_status.OK
    echo(f"Segment {visible(found.name)}")
    echo(f"  query: {format(found.filter, names)}")
    echo(f"  means: {found.filter.describe(names)}")
    echo(f"  followers: {count:,} (newest first: {', '.join(first) if first else 'none'})")
    return exit_status.OK
