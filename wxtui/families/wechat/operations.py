"""The WeChat Official Account family of bulk operations: what the engine needs to know.

Each operation is one API call of the client, with its batch size (50 for tagging, 20 for the
blacklist), its conflict keys (the openids: two calls touching one openid at once get 45169),
the call that undoes it, and its effect on the cache (the store's write-through methods).
"""

from __future__ import annotations

from typing import Callable

from wxtui.core.transport import RetryEvent
from wxtui.families.wechat import limits
from wxtui.families.wechat.models import Tag
from wxtui.jobs.api_operations import ApiOperations
from wxtui.jobs.operations import CallSpec, Operation, UndoContext, resolve_vars
from wxtui.families.wechat.verify import WeChatVerifier

FAMILY = "wechat"
CHINA_UTC_OFFSET_S = 8 * 3600

# Errors after which no call of the job can succeed until the user changes something.
JOB_WIDE_ERRCODES = frozenset({40002, 40013, 40125, 40164, 40243, 41002, 41004, 45159, 48001, 50001,
                               50002, 61004})
# The whole call fails because of some of its followers: split it to find them.
BAD_TARGET_ERRCODES = frozenset({40003, 49003, 45059})
THROTTLE_REASONS = frozenset({"errcode 45011", "errcode -1"})

API = "/cgi-bin"
TAGGING_PATH = API + "/tags/members/batchtagging"
UNTAGGING_PATH = API + "/tags/members/batchuntagging"
BLACKLIST_PATH = API + "/tags/members/batchblacklist"
UNBLACKLIST_PATH = API + "/tags/members/batchunblacklist"


def next_china_midnight(now: float) -> float:
    """When daily quotas reset: the next midnight in China (UTC+8), as unix seconds."""
    day = int((now + CHINA_UTC_OFFSET_S) // 86400)
    return (day + 1) * 86400 - CHINA_UTC_OFFSET_S


# -- execute ----------------------------------------------------------------------------------

async def _tag(client, params: dict, targets: list[str]) -> None:
    await client.batch_tag(params["tagid"], targets)


async def _untag(client, params: dict, targets: list[str]) -> None:
    await client.batch_untag(params["tagid"], targets)


async def _blacklist(client, params: dict, targets: list[str]) -> None:
    await client.batch_blacklist(targets)


async def _unblacklist(client, params: dict, targets: list[str]) -> None:
    await client.batch_unblacklist(targets)


async def _create_tag(client, params: dict, targets: list[str]) -> dict:
    tag = await client.create_tag(params["name"])
    return {"tagid": tag.id, "name": tag.name}


async def _create_tag_again(client, params: dict, targets: list[str]) -> dict:
    tag = await client.create_tag(params["name"], sent_before=True)
    return {"tagid": tag.id, "name": tag.name}


async def _rename_tag(client, params: dict, targets: list[str]) -> None:
    await client.update_tag(params["tagid"], params["name"])


async def _delete_tag(client, params: dict, targets: list[str]) -> None:
    await client.delete_tag(params["tagid"])


async def _set_remark(client, params: dict, targets: list[str]) -> None:
    (openid,) = targets
    await client.update_remark(openid, params["remark"])


# -- inverse ----------------------------------------------------------------------------------

def _inverse_tag(params: dict, targets: list[str], output: dict, ctx: UndoContext) -> list[CallSpec]:
    # A tag the job created itself is named by a job variable: the undo needs its id.
    return [CallSpec("untag", {"tagid": resolve_vars(params, ctx.vars)["tagid"]}, tuple(targets))]


def _inverse_untag(params: dict, targets: list[str], output: dict, ctx: UndoContext) -> list[CallSpec]:
    if params.get("draining") and "delete_tag" in ctx.done_ops:
        # The tag itself was deleted afterwards: they go onto the tag the undo recreates.
        return [CallSpec("tag", {"tagid": {"$var": "tagid"}}, tuple(targets), phase=1)]
    return [CallSpec("tag", {"tagid": params["tagid"]}, tuple(targets))]


def _inverse_blacklist(params: dict, targets: list[str], output: dict, ctx: UndoContext) -> list[CallSpec]:
    return [CallSpec("unblacklist", {}, tuple(targets))]


def _inverse_unblacklist(params: dict, targets: list[str], output: dict, ctx: UndoContext) -> list[CallSpec]:
    return [CallSpec("blacklist", {}, tuple(targets))]


def _inverse_create(params: dict, targets: list[str], output: dict, ctx: UndoContext) -> list[CallSpec]:
    return [CallSpec("delete_tag", {"tagid": output["tagid"], "name": params["name"]}, ())]


def _inverse_rename(params: dict, targets: list[str], output: dict, ctx: UndoContext) -> list[CallSpec]:
    return [CallSpec("rename_tag", {"tagid": params["tagid"], "name": params["previous"],
                                    "previous": params["name"]}, ())]


def _inverse_delete(params: dict, targets: list[str], output: dict, ctx: UndoContext) -> list[CallSpec]:
    # A deleted tag cannot come back with its id: a new tag of the same name, and its members.
    calls = [CallSpec("create_tag", {"name": params["name"]}, (), phase=0)]
    members = params.get("members") or ()
    if members:
        calls.append(CallSpec("tag", {"tagid": {"$var": "tagid"}}, tuple(members), phase=1))
    return calls


def _inverse_remark(params: dict, targets: list[str], output: dict, ctx: UndoContext) -> list[CallSpec]:
    return [CallSpec("set_remark", {"remark": params["previous"], "previous": params["remark"]},
                     tuple(targets))]


# -- write-through ----------------------------------------------------------------------------

def _cache_tagged(store, params: dict, targets: list[str], output: dict) -> None:
    store.apply_tagged(params["tagid"], targets)


def _cache_untagged(store, params: dict, targets: list[str], output: dict) -> None:
    store.apply_untagged(params["tagid"], targets)


def _cache_blacklisted(store, params: dict, targets: list[str], output: dict) -> None:
    store.apply_blacklisted(targets)


def _cache_unblacklisted(store, params: dict, targets: list[str], output: dict) -> None:
    store.apply_unblacklisted(targets)


def _cache_created(store, params: dict, targets: list[str], output: dict) -> None:
    store.apply_tag_created(Tag(output["tagid"], output.get("name", params["name"]), 0))


def _cache_renamed(store, params: dict, targets: list[str], output: dict) -> None:
    store.apply_tag_renamed(params["tagid"], params["name"])


def _cache_deleted(store, params: dict, targets: list[str], output: dict) -> None:
    store.apply_tag_deleted(params["tagid"])


def _cache_remark(store, params: dict, targets: list[str], output: dict) -> None:
    store.apply_remark(targets[0], params["remark"])


def _no_keys(params: dict, targets) -> tuple:
    return ()


# -- what the cache shows already done (an undo skips it) ---------------------------------------

def _carrying_already(carries: bool):
    """Those the cache shows carrying (or not carrying) the call's tag; only followers it
    knows, and nobody for a tag the undo creates first ({"$var": "tagid"})."""
    def already(store, params: dict, targets) -> set[str]:
        tagid = params.get("tagid")
        if not isinstance(tagid, int):
            return set()
        return {o for o, tags in store.tag_ids_of(targets).items() if (tagid in tags) == carries}
    return already


def _listed_already(listed: bool):
    """Those the cache shows on (or off) the blacklist, which it holds whole."""
    def already(store, params: dict, targets) -> set[str]:
        blacklist = set(store.blacklist())
        return {o for o in targets if (o in blacklist) == listed}
    return already


OPERATIONS = (
    Operation("tag", limits.TAGGING_BATCH, _tag, "tag", inverse=_inverse_tag,
              write_through=_cache_tagged, quota_key=TAGGING_PATH, merge_write_through=True,
              already=_carrying_already(True)),
    Operation("untag", limits.TAGGING_BATCH, _untag, "untag", inverse=_inverse_untag,
              write_through=_cache_untagged, quota_key=UNTAGGING_PATH, merge_write_through=True,
              already=_carrying_already(False)),
    Operation("blacklist", limits.BLACKLIST_BATCH, _blacklist, "blacklist", inverse=_inverse_blacklist,
              write_through=_cache_blacklisted, quota_key=BLACKLIST_PATH, merge_write_through=True,
              already=_listed_already(True)),
    Operation("unblacklist", limits.BLACKLIST_BATCH, _unblacklist, "unblacklist",
              inverse=_inverse_unblacklist, write_through=_cache_unblacklisted, quota_key=UNBLACKLIST_PATH,
              merge_write_through=True, already=_listed_already(False)),
    Operation("create_tag", 0, _create_tag, "create tag", conflict_keys=_no_keys, inverse=_inverse_create,
              write_through=_cache_created, quota_key=API + "/tags/create", exports=("tagid",),
              execute_again=_create_tag_again),
    Operation("rename_tag", 0, _rename_tag, "rename tag", conflict_keys=_no_keys, inverse=_inverse_rename,
              write_through=_cache_renamed, quota_key=API + "/tags/update"),
    # params["members"]: the followers it still had, whom an undo tags again.
    Operation("delete_tag", 0, _delete_tag, "delete tag",
              conflict_keys=_no_keys, inverse=_inverse_delete, write_through=_cache_deleted,
              quota_key=API + "/tags/delete"),
    Operation("set_remark", 1, _set_remark, "set remark", inverse=_inverse_remark,
              write_through=_cache_remark, quota_key=API + "/user/info/updateremark"),
)


class WeChatOperations(ApiOperations):
    family = FAMILY
    verifier = WeChatVerifier()

    def __init__(self, clock: Callable[[], float] | None = None):
        import time

        super().__init__(OPERATIONS)
        self._clock = clock or time.time

    job_wide_codes = JOB_WIDE_ERRCODES
    bad_target_codes = BAD_TARGET_ERRCODES

    async def preflight(self, client) -> None:
        # The token the first call needs: without an AppSecret, or with one WeChat refuses
        # (40001, 40125, 40013...), no call can go.
        tokens = getattr(client, "tokens", None)
        if tokens is not None:
            await tokens.get()

    def quota_resets_at(self) -> float:
        return next_china_midnight(self._clock())

    def is_throttle(self, event: RetryEvent) -> bool:
        return event.reason in THROTTLE_REASONS
