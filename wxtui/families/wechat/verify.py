"""Reading a WeChat job's changes back: tags and remarks through user/info/batchget (100
followers a call, each with its tagid_list and remark), the blacklist through its pages (10,000
openids a page), tag names through tags/get.

Aspects: "tag:<id>" (True: carries the tag), "blacklisted", "remark" (the remark's text) of a
follower; "name" of a tag, whose target is "tag #<id>" (no openid has a space). A follower who
has unfollowed since the job answers subscribe 0, and a tag deleted since is not in tags/get:
gone, not a mismatch.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from wxtui.families.wechat import limits
from wxtui.jobs.operations import CallSpec
from wxtui.jobs.verify import Read

BLACKLISTED = "blacklisted"
REMARK = "remark"
TAG_NAME = "name"
TAG_TARGET = "tag #"
_BOOLEAN_OPS = {"tag": True, "untag": False, "blacklist": True, "unblacklist": False}


def tag_aspect(tagid: int) -> str:
    return f"tag:{tagid}"


def tag_target(tagid: int) -> str:
    """A tag as a verification's target (what a rename changed)."""
    return f"{TAG_TARGET}{tagid}"


def _tagid_of(target: str) -> int:
    return int(target[len(TAG_TARGET):])


class WeChatVerifier:
    read_batch = limits.USER_INFO_BATCH

    def expectations(self, op: str, params: dict, targets: Sequence[str], output: dict,
                     job_vars: Mapping[str, Any]) -> Iterable[tuple[str, str, Any]]:
        if op == "set_remark":
            return ((t, REMARK, params["remark"]) for t in targets)
        if op == "rename_tag":
            return ((tag_target(params["tagid"]), TAG_NAME, params["name"]),)
        value = _BOOLEAN_OPS.get(op)
        if value is None:  # a tag created or deleted: the job's own later calls say the rest
            return ()
        aspect = tag_aspect(params["tagid"]) if op in ("tag", "untag") else BLACKLISTED
        return ((t, aspect, value) for t in targets)

    def reads(self, targets: list[str], aspects: set[str]) -> list[Read]:
        tagids = {int(a.split(":", 1)[1]) for a in aspects if a.startswith("tag:")}
        followers = [t for t in targets if not t.startswith(TAG_TARGET)]
        tags = [t for t in targets if t.startswith(TAG_TARGET)]
        reads = []
        if (tagids or REMARK in aspects) and followers:
            for start in range(0, len(followers), self.read_batch):
                batch = tuple(followers[start:start + self.read_batch])
                reads.append(Read(batch, _info_reader(batch, tagids, REMARK in aspects)))
        if BLACKLISTED in aspects and followers:
            reads.append(Read((), _blacklist_reader(tuple(followers))))
        if TAG_NAME in aspects and tags:
            reads.append(Read((), _tag_names_reader(tuple(tags))))
        return reads

    def setting(self, aspect: str, value: Any, targets: Sequence[str], previous: Any = None) -> CallSpec | None:
        """`previous`: what the targets have now (a remark or a name, for the call's undo)."""
        if aspect == BLACKLISTED:
            return CallSpec("blacklist" if value else "unblacklist", {}, tuple(targets))
        if aspect.startswith("tag:"):
            return CallSpec("tag" if value else "untag", {"tagid": int(aspect.split(":", 1)[1])},
                            tuple(targets))
        if aspect == REMARK:
            return CallSpec("set_remark", {"remark": value, "previous": previous or ""}, tuple(targets))
        if aspect == TAG_NAME and len(targets) == 1:
            return CallSpec("rename_tag", {"tagid": _tagid_of(targets[0]), "name": value,
                                           "previous": previous or value}, ())
        return None

    def describe(self, aspect: str, value: Any, names: Mapping[Any, str]) -> str:
        if aspect == BLACKLISTED:
            return "on the blacklist" if value else "not on the blacklist"
        if aspect == REMARK:
            return f'the remark "{value}"' if value else "no remark"
        if aspect == TAG_NAME:
            return f'named "{value}"'
        tagid = int(aspect.split(":", 1)[1])
        name = names.get(tagid, f"#{tagid}")
        return f"carries tag {name}" if value else f"does not carry tag {name}"


def _info_reader(batch: tuple[str, ...], tagids: set[int], remarks: bool):
    async def fetch(client) -> dict[str, dict[str, Any]]:
        found = {}
        for info in await client.user_info_answers(batch):
            if not info.get("subscribe"):
                continue  # unfollowed since: nothing to compare
            carried = {int(t) for t in info.get("tagid_list") or () if str(t).lstrip("-").isdigit()}
            aspects: dict[str, Any] = {tag_aspect(t): t in carried for t in tagids}
            if remarks:
                aspects[REMARK] = str(info.get("remark") or "")
            found[info["openid"]] = aspects
        return found

    return fetch


def _blacklist_reader(targets: tuple[str, ...]):
    async def fetch(client) -> dict[str, dict[str, Any]]:
        listed: set[str] = set()
        async for page in client.iter_blacklist():
            listed.update(page.openids)
        return {t: {BLACKLISTED: t in listed} for t in targets}

    return fetch


def _tag_names_reader(targets: tuple[str, ...]):
    async def fetch(client) -> dict[str, dict[str, Any]]:
        names = {tag_target(tag.id): tag.name for tag in await client.get_tags()}
        return {t: {TAG_NAME: names[t]} for t in targets if t in names}  # a deleted tag: gone

    return fetch
