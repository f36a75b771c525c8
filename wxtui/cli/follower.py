"""`wxtui follower show OPENID` and `wxtui remark set OPENID TEXT` once parsed."""

from __future__ import annotations

import argparse
import asyncio
import time

from wxtui.core.errors import UsageError, WxtuiError
from wxtui.core.member_card import CACHED, FollowerCard, NotAFollower
from wxtui.core.outside_text import echo, visible, visible_json, warn
from wxtui.jobs.intents import SetRemark

from .jobs_run import EXIT_NOT_SENT, EXIT_OK, _account, _confirm_and_run, headless_profile


def run_follower_show(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_show(args, headless_profile(args)))
    except (UsageError, WxtuiError) as exc:
        warn(exc)
        return EXIT_NOT_SENT


async def _show(args, profile) -> int:
    async with _account(args, profile) as jobs:
        try:
            card = await jobs.family.read_member_card(jobs.client, jobs.store, jobs.journal, args.openid)
        except NotAFollower as exc:
            raise UsageError(str(exc)) from None
    if args.json:
        print(visible_json(card.to_dict(), indent=2))
    else:
        for line in card_lines(card):
            echo(line)
    return EXIT_OK


def _day(unix: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(unix + 8 * 3600)) + " China time" if unix else "-"


def card_lines(card: FollowerCard) -> list[str]:
    """The card for people (names from the platform made visible: echo escapes what is left)."""
    tags = ", ".join(visible(name) for _, name in card.tags) or "none"
    source = " (from the cache: " + card.note + ")" if card.tags_from == CACHED else " (asked just now)"
    if card.corrected:
        source += "; the cache held other tags and was corrected"
    if card.is_tim:
        lines = [f"account id   {visible(card.openid)}", f"tags         {tags}{source}",
                 "remark, blacklist, language and subscribe details: not available on Tencent Cloud IM"]
    else:
        scene = card.scene + (f" ({card.qr_scene_str or card.qr_scene})" if card.qr_scene or card.qr_scene_str
                              else "")
        lines = [f"openid       {card.openid}", f"unionid      {card.unionid or '-'}",
                 f"remark       {visible(card.remark) or '-'}", f"language     {card.language or '-'}",
                 f"followed     {_day(card.subscribe_time)}", f"scene        {scene or '-'}",
                 f"blacklisted  {'yes' if card.blacklisted else 'no'}", f"tags         {tags}{source}"]
    if card.jobs:
        lines.append("jobs:")
        for job in card.jobs:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
            lines.append(f"  #{job.id:<5} {job.state:<9} {when}  {visible(job.title)}")
    else:
        lines.append("jobs         none touched this follower")
    return lines


def run_remark_set(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_remark(args, headless_profile(args)))
    except (UsageError, WxtuiError) as exc:
        warn(exc)
        return EXIT_NOT_SENT


async def _remark(args, profile) -> int:
    async with _account(args, profile) as jobs:
        if not jobs.family.capabilities.remarks:
            raise UsageError("Tencent Cloud IM accounts have no remark: nothing was sent")
        return await _confirm_and_run(jobs, await jobs.plan(SetRemark(args.openid, args.text)), args)
