"""What the verifier reports: problems, each naming file, record, field, expected and found."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong: where (file, record, field), what was expected and found, and what to do."""

    file: str
    record: str
    field: str
    expected: str
    found: str
    message: str


@dataclass
class Report:
    """Everything the verifier found, and how much it looked at (``checked``: counts by kind)."""

    problems: list[Problem] = field(default_factory=list)
    checked: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def add(self, file: Any, record: str, field_name: str, expected: Any, found: Any, message: str) -> None:
        """Record a problem; ``file`` may be a path; values are shown as they would be written."""
        self.problems.append(Problem(str(file), record, field_name, show(expected), show(found), message))

    def extend(self, other: Report) -> None:
        """Add ``other``'s problems and counts to this report."""
        self.problems += other.problems
        self.checked.update(other.checked)

    def as_dict(self) -> dict[str, Any]:
        """The ``--format json`` document: ``{"ok", "checked", "problems"}``."""
        return {"ok": self.ok, "checked": dict(self.checked), "problems": [asdict(problem) for problem in self.problems]}


def show(value: Any) -> str:
    """A value as the catalogue writes it: repr for floats, lower-case booleans, long text cut."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
