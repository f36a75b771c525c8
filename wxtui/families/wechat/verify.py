"""Reading a WeChat job's changes back: tags through user/info/batchget (100 followers a call,
each with its tagid_list), the blacklist through its pages (10,000 openids a page).

Aspects: "tag:<id>" (True: carries the tag) and "blacklisted". A follower who has unfollowed
since the job answers subscribe 0: gone, not a mismatch.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from wxtui.families.wechat import limits
from wxtui.jobs.operations import CallSpec
from wxtui.jobs.verify import Read

BLACKLISTED = "blacklisted"
_BOOLEAN_OPS = {"tag": True, "untag": False, "blacklist": True, "unblacklist": False}


def tag_aspect(tagid: int) -> str:
    return f"tag:{tagid}"


class WeChatVerifier:
    read_batch = limits.USER_INFO_BATCH

    def expectations(self, op: str, params: dict, targets: Sequence[str], output: dict,
                     job_vars: Mapping[str, Any]) -> Iterable[tuple[str, str, Any]]:
        value = _BOOLEAN_OPS.get(op)
        if value is None:  # tag names, remarks: not what a bulk job is about
            return ()
        aspect = tag_aspect(params["tagid"]) if op in ("tag", "untag") else BLACKLISTED
        return ((t, aspect, value) for t in targets)

    def reads(self, targets: list[str], aspects: set[str]) -> list[Read]:
        tagids = {int(a.split(":", 1)[1]) for a in aspects if a.startswith("tag:")}
        reads = []
        if tagids:
            for start in range(0, len(targets), self.read_batch):
                batch = tuple(targets[start:start + self.read_batch])
                reads.append(Read(batch, _tags_reader(batch, tagids)))
        if BLACKLISTED in aspects:
            reads.append(Read((), _blacklist_reader(tuple(targets))))
        return reads

    def setting(self, aspect: str, value: Any, targets: Sequence[str]) -> CallSpec | None:
        if aspect == BLACKLISTED:
            return CallSpec("blacklist" if value else "unblacklist", {}, tuple(targets))
        if aspect.startswith("tag:"):
            return CallSpec("tag" if value else "untag", {"tagid": int(aspect.split(":", 1)[1])},
                            tuple(targets))
        return None

    def describe(self, aspect: str, value: Any, names: Mapping[Any, str]) -> str:
        if aspect == BLACKLISTED:
            return "on the blacklist" if value else "not on the blacklist"
        tagid = int(aspect.split(":", 1)[1])
        name = names.get(tagid, f"#{tagid}")
        return f"carries tag {name}" if value else f"does not carry tag {name}"


def _tags_reader(batch: tuple[str, ...], tagids: set[int]):
    async def fetch(client) -> dict[str, dict[str, Any]]:
        found = {}
        for info in await client.user_info_answers(batch):
            if not info.get("subscribe"):
                continue  # unfollowed since: nothing to compare
            carried = {int(t) for t in info.get("tagid_list") or () if str(t).lstrip("-").isdigit()}
            found[info["openid"]] = {tag_aspect(t): t in carried for t in tagids}
        return found

    return fetch


def _blacklist_reader(targets: tuple[str, ...]):
    async def fetch(client) -> dict[str, dict[str, Any]]:
        listed: set[str] = set()
        async for page in client.iter_blacklist():
            listed.update(page.openids)
        return {t: {BLACKLISTED: t in listed} for t in targets}

    return fetch
