"""What the verifier reports: problems, each naming file, record, field, expected and found, and its kind.

Every problem carries a ``kind`` from ``KINDS``, so a program reading ``--format json`` can
filter by it (``jq '.problems[] | select(.kind == "rounding")'``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

#: The kinds of problem, and what each means. Documented in the README; ``--format json`` carries them.
KINDS = {
    "schema": "a record or the header breaks the schema: a type, a range, a missing or unknown field",
    "header": "the header's counts disagree with the records",
    "duplicate": "the same record, CSV row or CSV column appears twice",
    "closed-form": "an integer (size, count, reduction) differs from the closed form of the architecture",
    "rounding": "a display value is not its exact value rounded to the display decimals",
    "registry": "a record's architecture differs from the registry's entry for its model",
    "csv": "the summary CSV: its columns, its table schema, a missing or extra row, a cell",
    "stale-schema": "a file of schemas/ differs from what the code generates",
    "site": "a generated page or chart of the site does not show the data",
    "checkpoint": "a checkpoint's config, safetensors headers, index or shards disagree",
    "checkpoint-record": "a checkpoint differs from the catalogue record it is compared with",
    "outcome-link": "an outcome file's model cannot be joined to exactly one catalogue record",
    "outcome-claim": "what an outcome file says of its model (ratio, width, count, pruning %, name) differs from the record",
    "outcome-consistency": "an outcome file disagrees with itself: a value given twice, runs that do not recompute, a derived value",
    "outcome-nature": "an outcome value against its nature: an accuracy outside [0, 1], a negative stderr, a perplexity below 1",
    "outcome-conflict": "an outcome differs from the one stored for the same record, measurement and source",
    "outcome-model": "an outcome file names a model (hub id, checkpoint) that is not the model of the record given with --record",
    "outcome-agreement": "two values for one record, task, metric, filter and n-shot: one source giving two, or two sources beyond their uncertainty",
    "outcome-source": "a stored outcome's source file kept under measurements/ or sources/ is gone, or its sha256 is not the stored one",
    "document-value": "a results document's cell differs from the stored value its column measures",
    "document-metric": "a results document's cell is another metric's stored value than its column's",
    "document-change": "a change a results document states does not follow from the values it shows",
    "document-unit": "a results document's unit does not fit its values (a size in GiB labelled GB)",
    "document-file": "a results document names a file that does not exist",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong: where (file, record, field), what was expected and found, what to do, and its ``kind``."""

    file: str
    record: str
    field: str
    expected: str
    found: str
    message: str
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown problem kind {self.kind!r}: one of {', '.join(KINDS)}")


@dataclass
class Report:
    """Everything the verifier found, and how much it looked at (``checked``: counts by kind)."""

    problems: list[Problem] = field(default_factory=list)
    checked: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def add(self, file: Any, record: str, field_name: str, expected: Any, found: Any, message: str, *, kind: str) -> None:
        """Record a problem of ``kind``; ``file`` may be a path; values are shown as they would be written."""
        self.problems.append(Problem(str(file), record, field_name, show(expected), show(found), message, kind))

    def extend(self, other: Report) -> None:
        """Add ``other``'s problems and counts to this report."""
        self.problems += other.problems
        self.checked.update(other.checked)

    def as_dict(self) -> dict[str, Any]:
        """The ``--format json`` document: ``{"ok", "checked", "problems"}``; each problem with its ``kind``."""
        return {"ok": self.ok, "checked": dict(self.checked), "problems": [asdict(problem) for problem in self.problems]}


def show(value: Any) -> str:
    """A value as the catalogue writes it: repr for floats, lower-case booleans, long text cut."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int) and value.bit_length() > 256:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"  # str() refuses beyond 4300 digits
    try:
        text = str(value)
    except ValueError:  # a container holding such an integer
        return f"{type(value).__name__} holding an integer too long to print"
    text = " ".join(text.split()) if "\n" in text or "\r" in text else text
    return text if len(text) <= 80 else text[:77] + "..."
