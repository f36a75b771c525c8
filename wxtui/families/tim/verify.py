"""Reading a Tencent Cloud IM tag job's changes back: im_get_tag, 100 accounts a call.

Aspects: "tag:<name>" (True: the account carries that tag). An account the answer names as
failed (no longer imported) is gone, not a mismatch.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from wxtui.families.tim import limits
from wxtui.jobs.operations import CallSpec
from wxtui.jobs.verify import Read


def tag_aspect(tag: str) -> str:
    return f"tag:{tag}"


class TimVerifier:
    read_batch = limits.MAX_ACCOUNTS_PER_CALL

    def expectations(self, op: str, params: dict, targets: Sequence[str], output: dict,
                     job_vars: Mapping[str, Any]) -> Iterable[tuple[str, str, Any]]:
        if op in ("add_tag", "remove_tag"):
            value = op == "add_tag"
            return [(t, tag_aspect(tag), value) for t in targets for tag in params["tags"]]
        if op == "remove_all_tags":
            had = (output or {}).get("had") or {}
            return [(t, tag_aspect(tag), False) for t in targets for tag in had.get(t, ())]
        return ()

    def reads(self, targets: list[str], aspects: set[str]) -> list[Read]:
        tags = {a.split(":", 1)[1] for a in aspects if a.startswith("tag:")}
        if not tags:
            return []
        return [Read(tuple(targets[i:i + self.read_batch]), _reader(tuple(targets[i:i + self.read_batch]), tags))
                for i in range(0, len(targets), self.read_batch)]

    def setting(self, aspect: str, value: Any, targets: Sequence[str], previous: Any = None) -> CallSpec | None:
        if not aspect.startswith("tag:"):
            return None
        return CallSpec("add_tag" if value else "remove_tag", {"tags": [aspect.split(":", 1)[1]]},
                        tuple(targets))

    def describe(self, aspect: str, value: Any, names: Mapping[Any, str]) -> str:
        tag = aspect.split(":", 1)[1]
        return f"carries tag {tag}" if value else f"does not carry tag {tag}"


def _reader(batch: tuple[str, ...], tags: set[str]):
    async def fetch(client) -> dict[str, dict[str, Any]]:
        answer = await client.get_tags(batch)
        return {account: {tag_aspect(t): t in carried for t in tags}
                for account, carried in answer.items()}

    return fetch
