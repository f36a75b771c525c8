"""A dry run: what a job will do, cost and refuse, before anything is sent.

A family's planner turns an intent (wxtui.jobs.intents) into a `Plan`; the UI and the command
line show it, and `JobService.submit` journals it. Nothing here knows a family's calls.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .operations import CallSpec

LISTED = 50  # items shown with a warning (the plan keeps them all)


@dataclass(frozen=True)
class PlanNote:
    """A warning (the job can run) or an error (it cannot); items are the openids concerned."""

    code: str
    message: str
    items: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "count": len(self.items),
                "items": list(self.items[:LISTED])}


@dataclass
class Plan:
    intent: Any  # a wxtui.jobs.intents.Intent
    title: str
    calls: list[CallSpec]
    targets: int = 0  # followers (or tags) whose state changes
    noops: int = 0  # dropped: the cache proves nothing would change
    warnings: list[PlanNote] = field(default_factory=list)
    errors: list[PlanNote] = field(default_factory=list)
    estimated_s: float = 0.0
    quota: dict[str, dict] = field(default_factory=dict)  # API path -> daily_limit, remain, needed
    family: str = ""  # the key of the family whose operations run the calls
    # The changes in the unit the job counts them in as it runs (its calls' targets), and that
    # unit's name: clear-tags changes tag memberships of `targets` followers.
    changes: int | None = None  # None: targets
    unit: str = "followers"

    @property
    def change_count(self) -> int:
        return self.targets if self.changes is None else self.changes

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def calls_by_op(self) -> dict[str, int]:
        return dict(Counter(c.op for c in self.calls))

    def summary(self) -> dict:
        """What the journal keeps and `--dry-run --json` prints."""
        return {
            "title": self.title, "kind": self.intent.kind, "targets": self.targets, "noops": self.noops,
            "changes": self.change_count, "unit": self.unit,
            "calls": len(self.calls), "calls_by_op": self.calls_by_op,
            "estimated_s": round(self.estimated_s, 1), "quota": self.quota,
            "warnings": [w.to_dict() for w in self.warnings], "errors": [e.to_dict() for e in self.errors],
        }

    def describe(self) -> list[str]:
        """The plan in a few lines for people."""
        from .events import format_duration

        lines = [self.title]
        by_op = ", ".join(f"{n:,} {op}" for op, n in self.calls_by_op.items()) or "none"
        changes = count_of(self.change_count, self.unit)
        if self.changes is not None:
            changes += f" of {followers(self.targets)}"
        lines.append(f"  changes {changes}; {self.noops:,} already as asked (skipped)")
        lines.append(f"  calls: {len(self.calls):,} ({by_op}); about {format_duration(self.estimated_s)}")
        for path, q in self.quota.items():
            if "remain" in q:
                lines.append(f"  quota of {path}: {q['remain']:,} of {q['daily_limit']:,} left today, "
                             f"{q['needed']:,} needed")
            else:
                lines.append(f"  quota of {path}: unknown ({q.get('error', '')})")
        for label, notes in (("warning", self.warnings), ("error", self.errors)):
            for note in notes:
                lines.append(f"  {label}: {note.message}")
                shown = note.items[:LISTED]
                for item in shown:
                    lines.append(f"    {item}")
                if len(note.items) > len(shown):
                    lines.append(f"    ... and {len(note.items) - len(shown):,} more")
        return lines


def followers(n: int) -> str:
    return f"{n:,} follower" + ("" if n == 1 else "s")


def count_of(n: int, unit: str) -> str:
    """'1 tag membership', '2,950 tag memberships': a count in a unit named in the plural."""
    return f"{n:,} {unit[:-1] if n == 1 and unit.endswith('s') else unit}"
