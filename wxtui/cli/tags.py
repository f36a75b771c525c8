"""`wxtui tags [list|create|rename|delete]` once parsed: the list reads WeChat's tags/get (the
cache's when WeChat cannot be asked); the changes are jobs planned and confirmed like every
bulk action (a delete above 100,000 followers drains the tag first)."""

from __future__ import annotations

import argparse
import asyncio

from wxtui.core.errors import UsageError, WxtuiError, redact
from wxtui.core.outside_text import echo, visible_json, warn
from wxtui.jobs.intents import CreateTag, DeleteTag, RenameTag

from .jobs_run import EXIT_NOT_SENT, EXIT_OK, _account, _confirm_and_run, _tag_id, headless_profile


def run_tags(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_tags(args, headless_profile(args)))
    except (UsageError, WxtuiError) as exc:
        warn(exc)
        return EXIT_NOT_SENT


async def _tags(args, profile) -> int:
    command = args.tags_command or "list"
    async with _account(args, profile) as jobs:
        if command == "list":
            return await _list(jobs, args.json)
        if jobs.family.capabilities.free_tags:
            raise UsageError("Tencent Cloud IM tags are free text on each account: they are created by "
                             "tagging (wxtui tag --tag NAME ...) and cannot be renamed or deleted here")
        if command == "create":
            intent = CreateTag(args.name)
        elif command == "rename":
            intent = RenameTag(_tag_id(jobs.store, args.old), args.name)
        else:
            intent = DeleteTag(_tag_id(jobs.store, args.old))
        return await _confirm_and_run(jobs, await jobs.plan(intent), args)


async def _list(jobs, as_json: bool) -> int:
    source = "cache"
    tags = [(t.id, t.name, t.count) for t in await asyncio.to_thread(jobs.store.tags)]
    if not jobs.family.capabilities.free_tags:
        try:
            tags = [(t.id, t.name, t.count) for t in await jobs.client.get_tags()]
            source = "wechat"
        except WxtuiError as exc:
            warn(f"could not ask WeChat for the tags ({redact(str(exc))}): the cache's tags follow")
    if as_json:
        print(visible_json({"source": source, "tags": [{"id": t, "name": name, "count": count}
                                                      for t, name, count in tags]}, indent=2))
        return EXIT_OK
    if not tags:
        echo("No tags.")
        return EXIT_OK
    echo(f"{'ID':>5}  {'FOLLOWERS':>10}  NAME")
    for tagid, name, count in tags:
        echo(f"{tagid:>5}  {count:>10,}  {name}")
    return EXIT_OK
