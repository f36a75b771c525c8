"""The Tencent Cloud IM tag family of bulk operations: what the engine needs to know.

Three operations, each one call of `TimClient` over at most 100 accounts: add tags (at most 10
per account per call), remove tags, remove all tags. Conflict keys are the accounts. A call that
answers OK with an ErrorList succeeded for the other accounts: the named ones (70107 "not
imported" among them) are the job's failures, by account. Rate limits (600xx) and 91000 are
retried by the client, its retries slow the engine down, and what is left is requeued.

The cache keeps tags by number: a TIM tag (a free text) gets the number of the cached tag of
that name, created in the cache on first use. An undo of remove_all re-adds what each account
had; that is recorded in the call's parameters at plan time from the cache (`had`), and read with
im_get_tag just before the call for the accounts the plan did not know.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from wxtui.core.transport import RetryEvent
from wxtui.families.tim import limits
from wxtui.families.tim.cache import cached_tag_ids
from wxtui.families.tim.errors import describe
from wxtui.families.tim.transport import is_throttle
from wxtui.jobs.api_operations import ApiOperations
from wxtui.jobs.operations import CallSpec, Operation, UndoContext

FAMILY = "tim"

# After these no call of the job can succeed until the user changes something: the signature
# (70001/70003/70009...), the app or region (70016/70020, 70013...), admin rights (90009), tags
# not enabled on the edition (the console switch).
JOB_WIDE_CODES = frozenset({70003, 70009, 70013, 70014, 70016, 70020, 70403, 90009})


# -- planning ---------------------------------------------------------------------------------

def tag_calls(op: str, tags: Sequence[str], accounts: Iterable[str], phase: int = 0) -> list[CallSpec]:
    """add_tag / remove_tag calls giving every account all of `tags`: ≤100 accounts and ≤10 tags
    a call (more tags: one round of calls per ten)."""
    unique_tags = list(dict.fromkeys(tags))
    unique_accounts = list(dict.fromkeys(accounts))
    calls = []
    for t in range(0, len(unique_tags), limits.MAX_TAGS_PER_ACCOUNT_PER_CALL):
        chunk = unique_tags[t:t + limits.MAX_TAGS_PER_ACCOUNT_PER_CALL]
        for a in range(0, len(unique_accounts), limits.MAX_ACCOUNTS_PER_CALL):
            calls.append(CallSpec(op, {"tags": chunk},
                                  tuple(unique_accounts[a:a + limits.MAX_ACCOUNTS_PER_CALL]), phase))
    return calls


def remove_all_calls(accounts: Iterable[str], had: Mapping[str, Sequence[str]] | None = None,
                     phase: int = 0) -> list[CallSpec]:
    """remove_all_tags calls, 100 accounts each; `had` (account -> tags, from the cache) is what
    an undo puts back for the accounts it names."""
    had = had or {}
    unique = list(dict.fromkeys(accounts))
    calls = []
    for a in range(0, len(unique), limits.MAX_ACCOUNTS_PER_CALL):
        batch = tuple(unique[a:a + limits.MAX_ACCOUNTS_PER_CALL])
        calls.append(CallSpec("remove_all_tags", {"had": {x: list(had[x]) for x in batch if x in had}},
                              batch, phase))
    return calls


# -- execute ----------------------------------------------------------------------------------

async def _add(client, params: dict, targets: list[str]) -> dict:
    return (await client.tag_accounts(targets, params["tags"])).as_outputs()


async def _remove(client, params: dict, targets: list[str]) -> dict:
    return (await client.untag_accounts(targets, params["tags"])).as_outputs()


async def _remove_all(client, params: dict, targets: list[str]) -> dict:
    had = {a: list(tags) for a, tags in (params.get("had") or {}).items() if a in targets}
    unknown = [a for a in targets if a not in had]
    if unknown:  # what they carry now, so that an undo can put it back
        read = await client.get_tags(unknown)
        had.update({a: list(tags) for a, tags in read.items()})
    change = await client.remove_all_tags(targets)
    return {**change.as_outputs(), "had": {a: tags for a, tags in had.items() if tags}}


def failed_accounts(output: dict) -> dict[str, tuple[int | None, str]]:
    """The accounts a partial answer named, with the error table's message for their code."""
    failed = (output or {}).get("failed") or {}
    return {account: (code, describe(code).message) for account, (code, _info) in failed.items()}


# -- inverse ----------------------------------------------------------------------------------

def _succeeded(targets: list[str], output: dict) -> list[str]:
    failed = (output or {}).get("failed") or {}
    return [t for t in targets if t not in failed]


def _inverse_add(params: dict, targets: list[str], output: dict, ctx: UndoContext) -> list[CallSpec]:
    return tag_calls("remove_tag", params["tags"], _succeeded(targets, output))


def _inverse_remove(params: dict, targets: list[str], output: dict, ctx: UndoContext) -> list[CallSpec]:
    return tag_calls("add_tag", params["tags"], _succeeded(targets, output))


def _inverse_remove_all(params: dict, targets: list[str], output: dict, ctx: UndoContext) -> list[CallSpec]:
    had = (output or {}).get("had") or {}
    by_tags: dict[tuple[str, ...], list[str]] = {}
    for account in _succeeded(targets, output):
        if had.get(account):
            by_tags.setdefault(tuple(had[account]), []).append(account)
    return [spec for tags, accounts in by_tags.items() for spec in tag_calls("add_tag", tags, accounts)]


# -- write-through ----------------------------------------------------------------------------

def _cache_added(store, params: dict, targets: list[str], output: dict) -> None:
    for tagid in cached_tag_ids(store, params["tags"]).values():
        store.apply_tagged(tagid, targets)


def _cache_removed(store, params: dict, targets: list[str], output: dict) -> None:
    for tagid in cached_tag_ids(store, params["tags"], create=False).values():
        store.apply_untagged(tagid, targets)


def _cache_removed_all(store, params: dict, targets: list[str], output: dict) -> None:
    by_tag: dict[int, list[str]] = {}
    for account, ids in store.tag_ids_of(targets).items():
        for tagid in ids:
            by_tag.setdefault(tagid, []).append(account)
    for tagid, accounts in by_tag.items():
        store.apply_untagged(tagid, accounts)


OPERATIONS = (
    Operation("add_tag", limits.MAX_ACCOUNTS_PER_CALL, _add, "add tags", inverse=_inverse_add,
              write_through=_cache_added, merge_write_through=True, target_failures=failed_accounts),
    Operation("remove_tag", limits.MAX_ACCOUNTS_PER_CALL, _remove, "remove tags", inverse=_inverse_remove,
              write_through=_cache_removed, merge_write_through=True, target_failures=failed_accounts),
    Operation("remove_all_tags", limits.MAX_ACCOUNTS_PER_CALL, _remove_all, "remove all tags",
              inverse=_inverse_remove_all, write_through=_cache_removed_all, target_failures=failed_accounts),
)


class TimOperations(ApiOperations):
    family = FAMILY

    def __init__(self):
        super().__init__(OPERATIONS)

    job_wide_codes = JOB_WIDE_CODES

    def is_throttle(self, event: RetryEvent) -> bool:
        return is_throttle(event)
