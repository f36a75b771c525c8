"""Bring Tencent Cloud IM accounts into the cache: an import and a "sync".

The service cannot list accounts, nor the accounts carrying a tag: the accounts come from the
user (a file, standard input), account_check says which exist, and im_get_tag over the accounts
the cache knows learns their tags (what a sync is for this kind of account). Calls go 100 accounts
at a time, several at once, within the client's 100 calls per second.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Callable, Iterable, TextIO

from wxtui.families.tim.cache import remember_accounts
from wxtui.families.tim.client import batches, check_account
from wxtui.core.errors import ValidationError

Progress = Callable[[int, int], None]  # (accounts done, accounts in all)


@dataclass
class ImportResult:
    imported: list[str] = field(default_factory=list)  # in the app, now in the cache with their tags
    not_imported: list[str] = field(default_factory=list)  # account_check: not in the app
    unchecked: dict[str, str] = field(default_factory=dict)  # account -> why it could not be checked
    invalid: list[str] = field(default_factory=list)  # lines that are not an account id


def read_accounts(lines: Iterable[str] | TextIO) -> tuple[list[str], list[str]]:
    """Account ids, one per line (blank lines and # comments skipped), deduplicated in order;
    and the lines that are not account ids."""
    accounts: dict[str, None] = {}
    invalid = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            accounts[check_account(text, "import")] = None
        except ValidationError:
            invalid.append(text)
    return list(accounts), invalid


async def _each_batch(accounts: list[str], work, progress: Progress | None, parallel: int) -> None:
    gate = asyncio.Semaphore(parallel)
    done = 0

    async def one(batch: list[str]) -> None:
        nonlocal done
        async with gate:
            await work(batch)
        done += len(batch)
        if progress:
            progress(done, len(accounts))

    await asyncio.gather(*(one(b) for b in batches(accounts)))


async def learn_tags(client, store, accounts: Iterable[str], *, progress: Progress | None = None,
                     parallel: int = 8) -> dict[str, str]:
    """im_get_tag over these accounts; the cache then holds exactly the tags each one carries.
    Returns the accounts that could not be read (account -> message); the cache keeps theirs."""
    accounts = list(dict.fromkeys(accounts))
    failed: dict[str, str] = {}

    async def work(batch: list[str]) -> None:
        answer = await client.get_tags(batch)
        remember_accounts(store, dict(answer))
        failed.update({a: f.message for a, f in answer.failed.items()})

    await _each_batch(accounts, work, progress, parallel)
    return failed


async def import_accounts(client, store, accounts: Iterable[str], *, progress: Progress | None = None,
                          parallel: int = 8) -> ImportResult:
    """account_check these accounts; those in the app go into the cache with their tags."""
    result = ImportResult()
    accounts = list(dict.fromkeys(accounts))

    async def work(batch: list[str]) -> None:
        check = await client.account_check(batch)
        result.not_imported.extend(check.not_imported)
        result.unchecked.update({a: f.message for a, f in check.failed.items()})
        present = check.imported
        if present:
            answer = await client.get_tags(present)
            remember_accounts(store, dict(answer))
            result.unchecked.update({a: f.message for a, f in answer.failed.items()})
            result.imported.extend(a for a in present if a in answer)

    await _each_batch(accounts, work, progress, parallel)
    return result


def known_accounts(store) -> list[str]:
    """Every account the cache holds (the openid column holds TIM account ids)."""
    return [row[0] for row in store.reader().execute("SELECT openid FROM followers ORDER BY id")]
