"""Rules: a saved segment that keeps itself tagged.

A rule says "the followers of segment S carry tag T", optionally "and those who leave S lose
T", and how it runs after a sync: it asks first (the default), runs on its own (automatic), or
not at all while it is paused. The rules are kept here, in the account's cache; planning and
running them is wxtui.jobs.rules.

A rule names its segment by name and its tag by id (with the tag's name when last seen), so one
whose segment or tag was deleted still says which it was: it is reported and skipped, never
deleted behind the user's back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .segments import Segments

LAST_ID_KEY = "rules.last_id"  # in meta: the number of the last rule added, deleted or not

ASK, AUTOMATIC, PAUSED = "ask", "automatic", "paused"


class RuleError(ValueError):
    """A rule that cannot be saved or found; str() says why, for the user."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    segment: str
    tagid: int
    tag_name: str
    remove_leavers: bool
    automatic: bool
    paused: bool
    created_at: float
    last_run_at: float | None = None
    last_job: int | None = None
    last_result: str = ""

    @property
    def mode(self) -> str:
        """paused, automatic or ask: how it runs after a sync."""
        return PAUSED if self.paused else AUTOMATIC if self.automatic else ASK

    def describe(self, tag_name: str | None = None) -> str:
        """'segment "Guangdong 2024" carries tag "VIP" (leavers lose it)'."""
        text = f'segment "{self.segment}" carries tag "{tag_name or self.tag_name}"'
        return text + (" (leavers lose it)" if self.remove_leavers else "")


_COLUMNS = ("id, segment, tagid, tag_name, remove_leavers, automatic, paused, created_at, last_run_at, "
            "last_job, last_result")


class Rules:
    """The rules of one account's cache."""

    def __init__(self, store, clock=time.time):
        self.store = store
        self._clock = clock

    def list(self) -> list[Rule]:
        """Every rule, in the order they were added."""
        return [_rule(r) for r in self.store._read(f"SELECT {_COLUMNS} FROM rules ORDER BY id")]

    def get(self, rule_id: int) -> Rule | None:
        rows = self.store._read(f"SELECT {_COLUMNS} FROM rules WHERE id = ?", (rule_id,))
        return _rule(rows[0]) if rows else None

    def add(self, segment: str, tagid: int, *, remove_leavers: bool = False,
            automatic: bool = False) -> tuple[Rule, bool]:
        """The rule "segment carries tag", created, or updated when that segment already carries
        a rule for that tag (its options replaced, its pause kept). Returns (rule, created)."""
        found = Segments(self.store).find(segment)
        if found is None:
            from wxtui.core.outside_text import visible

            saved = ", ".join(visible(s.name) for s in Segments(self.store).list()) or "none"
            raise RuleError(f"no segment named {visible(repr(segment))} (saved: {saved}); save one first: "
                            "wxtui segments save NAME QUERY")
        names = self.store.tag_names()
        if tagid not in names:
            raise RuleError(f"no tag #{tagid} in the cache")
        problem = self_dependency(found.filter, tagid, remove_leavers, names)
        if problem:
            raise RuleError(problem)
        with self.store.transaction():
            existing = self.store.conn.execute("SELECT id FROM rules WHERE segment = ? AND tagid = ?",
                                               (found.name, tagid)).fetchone()
            if existing:
                self.store.conn.execute(
                    "UPDATE rules SET tag_name = ?, remove_leavers = ?, automatic = ? WHERE id = ?",
                    (names[tagid], int(remove_leavers), int(automatic), existing[0]))
                rule_id, created = existing[0], False
            else:
                rule_id, created = self._next_id(), True
                self.store.conn.execute(
                    "INSERT INTO rules (id, segment, tagid, tag_name, remove_leavers, automatic, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (rule_id, found.name, tagid, names[tagid], int(remove_leavers), int(automatic), self._clock()))
                self.store.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                        (LAST_ID_KEY, str(rule_id)))
        return self.get(rule_id), created

    def _next_id(self) -> int:
        """One more than any rule ever added: job titles and the audit log name rules by number,
        so a deleted rule's number is not given to another (SQLite reuses the highest id)."""
        conn = self.store.conn
        highest = conn.execute("SELECT COALESCE(MAX(id), 0) FROM rules").fetchone()[0]
        last = conn.execute("SELECT value FROM meta WHERE key = ?", (LAST_ID_KEY,)).fetchone()
        return max(highest, int(last[0]) if last and str(last[0]).isdigit() else 0) + 1

    def set_paused(self, rule_id: int, paused: bool) -> Rule:
        return self._update(rule_id, "paused = ?", (int(paused),))

    def set_automatic(self, rule_id: int, automatic: bool) -> Rule:
        return self._update(rule_id, "automatic = ?", (int(automatic),))

    def follow_tag(self, rule_id: int, tagid: int, name: str) -> Rule:
        """The rule's tag is now this one (renamed, or recreated under the same name)."""
        return self._update(rule_id, "tagid = ?, tag_name = ?", (tagid, name))

    def record_run(self, rule_id: int, result: str, job_id: int | None = None) -> None:
        """What the rule's last run did (a job, nothing, or why it was skipped)."""
        with self.store.transaction():
            self.store.conn.execute(
                "UPDATE rules SET last_run_at = ?, last_result = ?, last_job = coalesce(?, last_job) WHERE id = ?",
                (self._clock(), result, job_id, rule_id))

    def delete(self, rule_id: int) -> bool:
        with self.store.transaction():
            cursor = self.store.conn.execute("DELETE FROM rules WHERE id = ?", (rule_id,))
        return cursor.rowcount > 0

    def find(self, text: str) -> Rule:
        """A rule by its number ("3" or "#3"), or by its segment's name when that segment
        carries one rule; RuleError naming the rules otherwise."""
        from wxtui.core.outside_text import visible

        text = text.strip()
        rules = self.list()
        by_segment = [r for r in rules if r.segment == text] or \
                     [r for r in rules if r.segment.casefold() == text.casefold()]
        if len(by_segment) == 1:
            return by_segment[0]
        if len(by_segment) > 1:
            listed = ", ".join(f'#{r.id} → "{visible(r.tag_name)}"' for r in by_segment)
            raise RuleError(f"segment {visible(repr(text))} carries {len(by_segment)} rules ({listed}): "
                            "give the rule's number")
        number = text.removeprefix("#")
        if number.isascii() and number.isdigit() and len(number) < 10:
            found = self.get(int(number))
            if found is not None:
                return found
        known = ", ".join(f'#{r.id} "{visible(r.segment)}"' for r in rules) or "none"
        raise RuleError(f"no rule {visible(repr(text))} (rules: {known})")

    def _update(self, rule_id: int, assignments: str, values: tuple) -> Rule:
        with self.store.transaction():
            self.store.conn.execute(f"UPDATE rules SET {assignments} WHERE id = ?", (*values, rule_id))
        found = self.get(rule_id)
        if found is None:
            raise RuleError(f"no rule #{rule_id}")
        return found


def orphaned_note(segment: str, rules: list[Rule]) -> str:
    """What becomes of the rules of a segment just deleted ('' when it had none)."""
    from wxtui.core.outside_text import visible

    mine = [r for r in rules if r.segment == segment]
    if not mine:
        return ""
    numbers = ", ".join(f"#{r.id}" for r in mine)
    which = f"Its rule {numbers} does" if len(mine) == 1 else f"Its rules {numbers} do"
    return (f"{which} nothing until a segment named {visible(repr(segment))} is saved again "
            f"(or delete {'it' if len(mine) == 1 else 'them'}: wxtui rules delete {mine[0].id}).")


def deleted_tag_note(tagid: int, rules: list[Rule]) -> str:
    """What deleting a tag would do to the rules giving it ('' when none gives it)."""
    giving = [r for r in rules if r.tagid == tagid]
    if not giving:
        return ""
    numbers = ", ".join(f"#{r.id}" for r in giving)
    one = len(giving) == 1
    return (f"{'Rule' if one else 'Rules'} {numbers} {'gives' if one else 'give'} this tag: after the deletion "
            f"{'it does' if one else 'they do'} nothing until a tag of the same name is created again "
            f"(or delete {'it' if one else 'them'}: wxtui rules delete {giving[0].id}).")


def depends_on(flt, tagid: int) -> bool:
    """Whether who matches the filter changes when followers gain or lose this tag."""
    return tagid in flt.tags or tagid in flt.not_tags or flt.untagged


def self_dependency(flt, tagid: int, remove_leavers: bool, names: dict[int, str]) -> str:
    """Why a rule on this segment and tag would undo itself ('' when it would not): taking the
    tag away from those who leave a segment that the tag itself decides makes every run undo
    the one before."""
    from wxtui.core.outside_text import visible

    if remove_leavers and depends_on(flt, tagid):
        reason = "its query uses untagged" if flt.untagged and tagid not in flt.tags | flt.not_tags \
            else f'its query uses the tag "{visible(names.get(tagid, f"#{tagid}"))}" itself'
        return (f"the segment's followers change when the rule tags them ({reason}): taking the tag from "
                "those who leave would undo every run; drop --remove-leavers or change the segment")
    return ""


def _rule(row) -> Rule:
    (id_, segment, tagid, tag_name, remove, automatic, paused, created, last_run, last_job, result) = row
    return Rule(id_, segment, tagid, tag_name, bool(remove), bool(automatic), bool(paused), created,
                last_run, last_job, result)
