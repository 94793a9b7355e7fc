"""A results document (Markdown) checked cell by cell against the stored outcomes: ``catalogue results check README.md``.

Every Markdown table is read. Its rows (or, in a table whose header names the models, its columns)
are tied to catalogue records: the model a cell or the nearest heading names (a registry model's
name, or ``1B`` for the one model of the document whose name ends so), the level a cell names
(``10% pruning``, ``(baseline)``, a ``Pruning (%)`` column, else an expansion ratio such as
``2.4x`` within its displayed rounding). Each other column is matched to the stored measure (task
and metric, or efficiency quantity, or a quantity's mean over a model's workloads) that the most
of its cells agree with, to the decimals each cell shows; a column no measure supports by at least
two cells and half of its checkable cells stays unmatched and is reported, never forced.

Then every cell is checked. Problems, each with file, line and column:

* ``document-value``: the cell differs from its column's stored value;
* ``document-metric``: it is the stored value of another metric of the same task;
* ``document-change``: a change stated beside a value (``0.2511 (-19.3%)``) or in a change column
  does not follow from the values shown (each taken with the rounding of its display; ``~``
  allows one more unit of the last digit);
* ``document-unit``: a column labelled GB whose values are GiB (or the reverse);
* ``document-file``: a file named in backticks (``name.csv``) that is not beside the document.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.outcome_records import ScoreOutcome
from ..core.problems import Report
from ..core.records import ExpansionRecord, successful_by_key
from ..store.reading import read_text

#: The largest document read (a results README is a few tens of kB).
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024

_VALUE_CELL = re.compile(r"^(?P<value>[-+−]?\d+(?:\.\d+)?)\s*(?:\((?P<change>[~≈]?\s*[-+−]?\d+(?:\.\d+)?)\s*%\))?$")
_CHANGE_CELL = re.compile(r"^(?P<approx>[~≈])?\s*(?P<change>[-+−]?\d+(?:\.\d+)?)\s*%$")
_PCT = re.compile(r"(\d+)\s*%\s*pruning|pruning\s*\(?\s*(\d+)\s*%", re.IGNORECASE)
_RATIO = re.compile(r"(\d+(?:\.\d+)?)\s*x\b")
_FILE = re.compile(r"`([^`/\s]+\.(?:csv|json|jsonl|md|ipynb|py|txt|yaml|yml|parquet))`")


@dataclass
class Table:
    """A Markdown table: the line of its header, the heading above it, its header cells and its rows (line, cells)."""

    line: int
    heading: str
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


@dataclass
class ColumnMatch:
    """What a column was matched to, and how many of its cells agree (or why it is unmatched)."""

    line: int
    column: str
    measure: str | None
    agree: int = 0
    checked: int = 0
    note: str = ""


@dataclass
class DocumentCheck:
    """What ``check_document`` found: each column's match, and the report of problems."""

    path: Path
    columns: list[ColumnMatch]
    report: Report


def markdown_tables(text: str) -> list[Table]:
    """Every pipe table of ``text`` with the line numbers (1-based) of its header and rows."""
    tables: list[Table] = []
    headings: dict[int, str] = {}  # the headings above, by level: a table's heading is all of them
    heading = ""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            headings = {key: value for key, value in headings.items() if key < level} | {level: line.lstrip("#").strip()}
            heading = " / ".join(headings[key] for key in sorted(headings))
        if line.strip().startswith("|") and index + 1 < len(lines) and re.match(r"^\s*\|?\s*:?-{3,}", lines[index + 1]):
            table = Table(index + 1, heading, _cells(line))
            index += 2
            while index < len(lines) and lines[index].strip().startswith("|"):
                table.rows.append((index + 1, _cells(lines[index])))
                index += 1
            tables.append(table)
            continue
        index += 1
    return tables


def _cells(line: str) -> list[str]:
    inner = line.strip().strip("|")
    return [cell.strip().replace("**", "").replace("$", "").strip() for cell in inner.split("|")]


def _decimals(text: str) -> int:
    return len(text.partition(".")[2]) if "." in text else 0


def _number(text: str) -> float:
    return float(text.replace("−", "-").replace("~", "").replace("≈", "").strip())


def _half_unit(text: str) -> float:
    return 0.5 * 10 ** -_decimals(text)


class _Values:
    """The stored values by record and measure: score (task, metric, filter) and efficiency quantity per workload,
    with each quantity's mean over a record's workloads of one file."""

    def __init__(self, outcomes, records: list[ExpansionRecord]):
        self.by_record: dict[str, dict[str, list[float]]] = {}
        self.task_of: dict[str, str] = {}
        means: dict[tuple[str, str, str], list[float]] = {}
        for outcome in outcomes:
            if isinstance(outcome, ScoreOutcome):
                name = f"{outcome.task} {outcome.metric}" + (f" ({outcome.filter})" if outcome.filter not in (None, "none") else "")
                self.task_of[name] = outcome.task
            else:
                name = f"{outcome.workload.name} {outcome.quantity}"
                self.task_of[name] = outcome.workload.name
                if outcome.runs is None or outcome.runs.count > 1 or outcome.source.format != "study-carbon-run":
                    means.setdefault((outcome.record, outcome.quantity, outcome.source.sha256), []).append(outcome.value)
            self.by_record.setdefault(outcome.record, {}).setdefault(name, []).append(outcome.value)
        for (record, quantity, _), values in means.items():
            if len(values) > 1:
                name = f"{quantity}, mean of its workloads"
                self.task_of[name] = name
                self.by_record.setdefault(record, {}).setdefault(name, []).append(sum(values) / len(values))

    def measures(self) -> list[str]:
        return sorted({name for values in self.by_record.values() for name in values})

    def matches(self, record: str, measure: str, text: str) -> bool:
        shown = _number(text)
        return any(abs(value - shown) <= _half_unit(text) + 1e-9 for value in self.by_record.get(record, {}).get(measure, []))


def check_document(path: Path, outcomes, records: list[ExpansionRecord]) -> DocumentCheck:
    """Read the Markdown document ``path`` and check each table's cells against ``outcomes`` (see the module)."""
    text = read_text(path, MAX_DOCUMENT_BYTES, "a Markdown results document")
    by_key = successful_by_key(records)
    names = {model_id.rsplit("/", 1)[-1]: model_id for model_id, _ in by_key}
    document_models = sorted({model_id for name, model_id in names.items() if re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", text)})
    values = _Values(outcomes, list(by_key.values()))
    report = Report()
    columns: list[ColumnMatch] = []
    context = _Context(str(path), names, document_models, by_key, values, report)
    for table in markdown_tables(text):
        columns += context.table(table)
    _files(path, text, report)
    report.checked["document_tables"] = len(markdown_tables(text))
    report.checked["document_cells"] = context.cells
    return DocumentCheck(Path(path), columns, report)


def _files(path: Path, text: str, report: Report) -> None:
    present = sorted(item.name for item in Path(path).parent.iterdir()) if Path(path).parent.is_dir() else []
    for number, line in enumerate(text.splitlines(), start=1):
        for name in _FILE.findall(line):
            if name not in present:
                report.add(
                    str(path),
                    "-",
                    f"line {number}",
                    f"a file beside {Path(path).name}",
                    name,
                    f"the document names `{name}`, which is not in {Path(path).parent} (it holds {len(present)} files): name the file that is there, or add it",
                    kind="document-file",
                )


@dataclass
class _Context:
    path: str
    names: dict[str, str]
    models: list[str]
    records: dict
    values: _Values
    report: Report
    cells: int = 0

    def model_in(self, text: str) -> str | None:
        """The one model ``text`` names: a registry model's name, or ``1B`` for the document's one model ending so."""
        found = [model_id for name, model_id in self.names.items() if re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", text)]
        if len(found) == 1:
            return found[0]
        short = re.findall(r"(?<![\w.-])(\d+(?:\.\d+)?[BM])(?![\w-])", text)
        if len(found) == 0 and len(short) == 1:
            ending = [model_id for model_id in self.models if model_id.endswith(f"-{short[0]}")]
            return ending[0] if len(ending) == 1 else None
        return None

    def level_in(self, model_id: str, text: str, pct_column: bool = False) -> int | None:
        """The pruning % a cell names (``10% pruning``, ``(baseline)``, ``60%`` in a pruning column), else by ratio."""
        pct = _PCT.search(text)
        if pct:
            return int(pct.group(1) or pct.group(2))
        if pct_column:
            bare = re.match(r"^(\d+)\s*%$", text)
            if bare:
                return int(bare.group(1))
        if "baseline" in text.lower():
            return 0
        ratio = _RATIO.search(text)
        if ratio:
            shown = float(ratio.group(1))
            near = [
                pct
                for (model, pct), record in self.records.items()
                if model == model_id and abs(record.pruned_architecture.expansion_ratio_exact - shown) <= _half_unit(ratio.group(1)) + 1e-9
            ]
            return near[0] if len(near) == 1 else None
        return None

    def subject(self, cells: list[str], header: list[str], heading: str) -> str | None:
        """The record (``MODEL@PCT``) a row is about, or None."""
        model_id = next((model for model in (self.model_in(cell) for cell in cells if not _VALUE_CELL.match(cell)) if model), None) or self.model_in(heading)
        if model_id is None:
            return None
        for cell, name in zip(cells, header):
            level = self.level_in(model_id, cell, pct_column="pruning" in name.lower())
            if level is not None:
                return f"{model_id}@{level}" if (model_id, level) in self.records else None
        return None

    def table(self, table: Table) -> list[ColumnMatch]:
        subjects_across = [self.subject([name], [""], "") for name in table.header[1:]]
        if table.header[1:] and all(subjects_across):
            return self.transposed(table, subjects_across)
        rows = [(line, cells, self.subject(cells, table.header, table.heading)) for line, cells in table.rows]
        if not any(subject for _, _, subject in rows):
            return [ColumnMatch(table.line, "(table)", None, note="no row names a model and level the catalogue holds: not checked")]
        found = []
        value_columns = []
        for index, name in enumerate(table.header):
            cells = [(line, cells[index], subject) for line, cells, subject in rows if index < len(cells) and subject]
            if _is_change_column(name):
                if value_columns:
                    self.change_column(name, cells, value_columns[-1], reduction="reduction" in name.lower())
                continue
            parsed = [(line, _VALUE_CELL.match(cell), subject) for line, cell, subject in cells]
            if _is_identity_column(name) or sum(1 for _, match, _ in parsed if match) < 2:
                continue
            column = self.match_column(table.line, name, [(line, match, subject) for line, match, subject in parsed if match])
            found.append(column)
            value_columns.append({subject: match["value"] for _, match, subject in parsed if match})
            self.check_cells(column, name, [(line, match, subject) for line, match, subject in parsed if match])
        return found

    def match_column(self, line: int, name: str, cells) -> ColumnMatch:
        best: list[tuple[int, int, str]] = []
        for measure in self.values.measures():
            checked = [(subject, match["value"]) for _, match, subject in cells if measure in self.values.by_record.get(subject, {})]
            agree = sum(1 for subject, shown in checked if self.values.matches(subject, measure, shown))
            if agree:
                best.append((agree, len(checked), measure))
        best.sort(key=lambda item: (-item[0], item[1], item[2]))
        checkable = len(cells)
        if not best or best[0][0] < 2 or best[0][0] * 2 < best[0][1]:
            return ColumnMatch(line, name, None, note=f"no stored measure agrees with 2 or more of its {checkable} cells")
        tied = [item for item in best if item[0] == best[0][0] and item[1] == best[0][1]]
        quantities = {item[2].split(",")[0].rsplit(" ", 1)[-1] for item in tied}
        if len(tied) > 1 and len(quantities) == 1 and any(item[2].endswith("mean of its workloads") for item in tied):
            tied = [item for item in tied if item[2].endswith("mean of its workloads")]  # one quantity, alike in every workload
        if len(tied) > 1:
            hint = [item for item in tied if _words(name) & _words(item[2])]
            if len(hint) != 1:
                return ColumnMatch(line, name, None, note=f"{len(tied)} stored measures agree equally ({', '.join(item[2] for item in tied[:3])})")
            tied = hint
        agree, checked, measure = tied[0]
        return ColumnMatch(line, name, measure, agree, checked)

    def check_cells(self, column: ColumnMatch, name: str, cells) -> None:
        baselines = {subject.split("@")[0]: match["value"] for _, match, subject in cells if subject.endswith("@0")}
        if column.measure is not None:
            self.unit(column, name)
        for line, match, subject in cells:
            self.cells += 1
            where = f"line {line}, column '{name}'"
            stored = column.measure is not None and column.measure in self.values.by_record.get(subject, {})
            if stored and not self.values.matches(subject, column.measure, match["value"]):
                self.value_problem(where, subject, column, match["value"])
            if match["change"]:
                model_id = subject.split("@")[0]
                base = baselines.get(model_id)
                stored = self.values.by_record.get(f"{model_id}@0", {}).get(column.measure or "", [None])[0]
                if base is not None:
                    self.change(where, subject, match["value"], base, match["change"], reduction=False, stored_base=stored)

    def value_problem(self, where: str, subject: str, column: ColumnMatch, shown: str) -> None:
        stored = self.values.by_record[subject][column.measure]
        task = self.values.task_of[column.measure]
        other = [
            measure
            for measure in self.values.by_record.get(subject, {})
            if measure != column.measure and self.values.task_of.get(measure) == task and self.values.matches(subject, measure, shown)
        ]
        if other:
            self.report.add(
                self.path,
                subject,
                where,
                f"{column.measure}: {_shown(stored[0], shown)}",
                shown,
                f"{shown} is {subject}'s {other[0]}, not the column's {column.measure} ({column.agree} of {column.checked} cells agree with it): show "
                f"{_shown(stored[0], shown)} or say which metric the cell is",
                kind="document-metric",
            )
            return
        self.report.add(
            self.path,
            subject,
            where,
            _shown(stored[0], shown),
            shown,
            f"the stored {column.measure} of {subject} is {stored[0]:g}, which {shown} does not round from: correct the cell, or say where the number "
            "comes from",
            kind="document-value",
        )

    def unit(self, column: ColumnMatch, name: str) -> None:
        says_gb = re.search(r"\bGB\b", name) is not None
        says_gib = re.search(r"\bGiB\b", name) is not None
        gib = column.measure.endswith("_gib") or column.measure.endswith("_gib, mean of its workloads")
        if gib and says_gb:
            self.report.add(
                self.path,
                "-",
                f"line {column.line}, column '{name}'",
                "GiB",
                "GB",
                f"the column's values are the stored {column.measure} in GiB (2^30 bytes; {column.agree} of {column.checked} cells agree), labelled "
                "GB (10^9 bytes: in GB each size is 7.4 % larger): write GiB, or convert the values",
                kind="document-unit",
            )
        elif says_gib and not gib and column.measure.endswith("_gb"):
            self.report.add(
                self.path,
                "-",
                f"line {column.line}, column '{name}'",
                "GB",
                "GiB",
                "the column's values are in GB, labelled GiB: write GB",
                kind="document-unit",
            )

    def change_column(self, name: str, cells, values: dict[str, str], reduction: bool) -> None:
        baselines = {subject.split("@")[0]: shown for subject, shown in values.items() if subject.endswith("@0")}
        for line, cell, subject in cells:
            match = _CHANGE_CELL.match(cell)
            if match is None or subject not in values:
                continue
            self.cells += 1
            base = baselines.get(subject.split("@")[0])
            if base is not None:
                approx = match["approx"] or ""
                self.change(f"line {line}, column '{name}'", subject, values[subject], base, approx + match["change"], reduction=reduction)

    def change(self, where: str, subject: str, shown: str, base: str, stated: str, reduction: bool, stored_base: float | None = None) -> None:
        """A stated % change against the interval the displayed value and baseline allow."""
        approx = stated.strip().startswith(("~", "≈"))
        claimed = _number(stated) * (-1 if reduction else 1)
        low, high = _change_interval(_number(shown), _half_unit(shown), _number(base), _half_unit(base))
        slack = (1.5 if approx else 0.5) * 10 ** -_decimals(stated.strip().lstrip("~≈ "))
        if low - slack - 1e-9 <= claimed <= high + slack + 1e-9:
            return
        exact = 100 * (_number(shown) - _number(base)) / _number(base) * (-1 if reduction else 1)
        what = "reduction" if reduction else "change"
        cause = ""
        if stored_base:
            lowest, highest = _change_interval(_number(shown), _half_unit(shown), stored_base, 0.0)
            if lowest - slack - 1e-9 <= claimed <= highest + slack + 1e-9:
                cause = f"; it follows from the column's stored baseline {stored_base:g}, so the baseline cell shows another value"
        self.report.add(
            self.path,
            subject,
            where,
            f"{exact:+.{max(1, _decimals(stated))}f} %",
            f"{stated} %",
            f"{shown} against the baseline's {base} is a {what} of {exact:+.2f} % (with their rounding {(-high if reduction else low):+.2f} to "
            f"{(-low if reduction else high):+.2f} %), not {stated} %{cause}: correct the change or the values",
            kind="document-change",
        )

    def transposed(self, table: Table, subjects: list[str]) -> list[ColumnMatch]:
        """A table whose header names the records (``1B at 2.4x (40% pruning)``) and whose rows are measures of stated changes."""
        found = []
        for line, cells in table.rows:
            label, stated = cells[0], cells[1:]
            changes = [(subject, _CHANGE_CELL.match(cell)) for subject, cell in zip(subjects, stated)]
            best: list[tuple[int, str]] = []
            for measure in self.values.measures():
                agree = sum(1 for subject, match in changes if match and self._stored_change_agrees(subject, measure, match["change"]))
                if agree:
                    best.append((agree, measure))
            best.sort(key=lambda item: (-item[0], item[1]))
            checkable = sum(1 for _, match in changes if match)
            top = [item for item in best if item[0] == best[0][0]] if best else []
            if len(top) > 1:
                top = [item for item in top if _words(label) & _words(item[1])] or top
            if not top or top[0][0] * 2 < checkable or len({self.values.task_of[item[1]] for item in top}) > 1:
                found.append(ColumnMatch(line, label, None, note=f"no stored measure's change agrees with half of its {checkable} cells"))
                continue
            agree, measure = top[0]
            found.append(ColumnMatch(line, label, measure, agree, checkable))
            for (subject, match), name in zip(changes, table.header[1:]):
                if not match:
                    continue
                self.cells += 1
                if not self._stored_change_agrees(subject, measure, match["change"]):
                    stored = self._stored_change(subject, measure)
                    if stored is not None:
                        self.report.add(
                            self.path,
                            subject,
                            f"line {line}, column '{name}'",
                            f"{stored:+.1f} %",
                            f"{match['change']} %",
                            f"the stored {measure} of {subject} against its baseline is a change of {stored:+.2f} %, not {match['change']} %: correct the cell",
                            kind="document-change",
                        )
        return found

    def _stored_change(self, subject: str, measure: str) -> float | None:
        level = self.values.by_record.get(subject, {}).get(measure)
        base = self.values.by_record.get(f"{subject.split('@')[0]}@0", {}).get(measure)
        if not level or not base or base[0] == 0:
            return None
        return 100 * (level[0] - base[0]) / base[0]

    def _stored_change_agrees(self, subject: str, measure: str, stated: str) -> bool:
        change = self._stored_change(subject, measure)
        return change is not None and abs(change - _number(stated)) <= _half_unit(stated.strip().lstrip("~≈ ")) + 1e-6


def _change_interval(value: float, value_half: float, base: float, base_half: float) -> tuple[float, float]:
    """The lowest and highest % change values within ``±value_half`` and baselines within ``±base_half`` give."""
    corners = [100 * (v - b) / b for v in (value - value_half, value + value_half) for b in (base - base_half, base + base_half) if b != 0]
    return (min(corners), max(corners)) if corners else (-math.inf, math.inf)


def _is_change_column(name: str) -> bool:
    lowered = name.lower()
    return "%" in name and any(word in lowered for word in ("baseline", "reduction", "change")) and "pruning" not in lowered


def _is_identity_column(name: str) -> bool:
    """A column that says which model and level a row is (its model, ratio or pruning %), not a measure."""
    lowered = name.lower()
    return lowered in ("model", "benchmark", "task") or any(word in lowered for word in ("ratio", "pruning", "intermediate size"))


def _shown(value: float, like: str) -> str:
    return f"{value:.{_decimals(like)}f}"


def _words(text: str) -> set[str]:
    return {word for word in re.split(r"[^a-z0-9]+", text.lower()) if len(word) > 2}


def check_stored(path: Path, data_dir: Path | None = None) -> DocumentCheck:
    """``check_document`` against the outcomes and catalogue of ``data_dir`` (default: the shipped data)."""
    from ..store.outcomes_files import read_outcomes
    from ..store.paths import CATALOGUE_FILE, default_data_dir
    from ..store.reading import load_catalogue

    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    return check_document(Path(path), read_outcomes(data_dir).outcomes, load_catalogue(data_dir / CATALOGUE_FILE).models)
