"""What `wxtui doctor` reports: checks (ok, warn, FAIL, info) in sections, one per subject.

The machine's sections come from the command (wxtui.cli.doctor); an account's section from its
family (wxtui.family.Family.doctor).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wxtui.core.outside_text import visible

OK, WARN, FAIL, INFO = "ok", "warn", "FAIL", "info"


@dataclass
class Check:
    status: str  # OK, WARN, FAIL or INFO
    label: str
    detail: str
    hint: str = ""


@dataclass
class Section:
    title: str
    checks: list[Check] = field(default_factory=list)

    def add(self, status: str, label: str, detail: str, hint: str = "") -> Check:
        check = Check(status, label, detail, hint)
        self.checks.append(check)
        return check


@dataclass
class Report:
    sections: list[Section] = field(default_factory=list)

    @property
    def failures(self) -> list[Check]:
        return [c for s in self.sections for c in s.checks if c.status == FAIL]

    @property
    def ok(self) -> bool:
        return not self.failures

    def find(self, label: str) -> list[Check]:
        return [c for s in self.sections for c in s.checks if c.label == label]

    def render(self) -> str:
        lines = []
        for section in self.sections:
            lines.append(visible(section.title))
            for c in section.checks:
                lines.append(f"  {c.status:<5} {c.label:<11} {visible(c.detail)}")
                if c.hint:
                    lines.extend(f"  {'':<5} {'':<11} {visible(line)}" for line in c.hint.splitlines())
        problems = len(self.failures)
        lines.append("Everything is fine." if not problems else
                     f"{problems} problem{'s' if problems > 1 else ''} found.")
        return "\n".join(lines)
