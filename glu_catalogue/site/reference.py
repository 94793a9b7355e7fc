"""The site's reference pages: the schema reference, verification status, downloads and reproduce.

Pure functions like ``glu_catalogue.site.render``: the schema page from ``schemas/`` as parsed JSON, the
verification page from the verifier's report on the data (never on the site itself, which would
make the page depend on itself), the downloads page from the bytes the site offers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from ..core.problems import Problem
from ..core.records import ExpansionRecord
from ..store.outcomes_files import OUTCOMES_CSV_FILE, OUTCOMES_FILE
from ..store.paths import CATALOGUE_FILE, SUMMARY_FILE
from ..store.schemas import CATALOGUE_SCHEMA_FILE
from .markdown import bullets, code, count, human_size, page, table


@dataclass(frozen=True)
class VerificationSummary:
    """What ``catalogue verify`` checked (kind, count) and found on the data and schemas."""

    checked: tuple[tuple[str, int], ...]
    problems: tuple[Problem, ...] = ()


# --- schema reference ------------------------------------------------------------------------------

#: JSON Schema bounds, as the reference writes them: ``minimum 0`` -> ``≥ 0``.
_BOUNDS = {"minimum": "≥", "exclusiveMinimum": ">", "maximum": "≤", "exclusiveMaximum": "<", "minLength": "length ≥", "maxLength": "length ≤"}


def _anchor(name: str) -> str:
    return f"def-{name.lower()}"


def schema_type(schema: Mapping[str, Any]) -> str:
    """A property's type in words: ``integer``, ``[Reductions](#def-reductions) or null``, ``array of ...``."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{_anchor(name)})"
    if "anyOf" in schema:
        return " or ".join(schema_type(branch) for branch in schema["anyOf"])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return schema_type(schema["allOf"][0])
    kind = schema.get("type", "any")
    if kind == "array" and "items" in schema:
        return f"array of {schema_type(schema['items'])}"
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


def schema_constraints(schema: Mapping[str, Any]) -> list[str]:
    """``≥ 0``, ``length ≤ 200``, ``pattern `...```, ``one of `a`, `b```... of a property and of its ``anyOf`` branches."""
    found = []
    for branch in [schema, *schema.get("anyOf", ())]:
        found += [f"{symbol} {branch[key]}" for key, symbol in _BOUNDS.items() if key in branch]
        if "pattern" in branch:
            found.append(f"pattern {code(branch['pattern'])}")
        if "enum" in branch:
            found.append("one of " + ", ".join(code(str(value)) for value in branch["enum"]))
        if "const" in branch:
            found.append(f"always {code(str(branch['const']))}")
    return found


def _object_table(schema: Mapping[str, Any]) -> str:
    required = set(schema.get("required", ()))
    rows = [
        (code(name), schema_type(prop), "yes" if name in required else "no", "; ".join(schema_constraints(prop)), prop.get("description", ""))
        for name, prop in schema.get("properties", {}).items()
    ]
    return table(("Field", "Type", "Required", "Constraints", "Description"), rows)


def _json_schema_section(file_name: str, schema: Mapping[str, Any]) -> str:
    blocks = [
        f"## {file_name}",
        f"JSON Schema of `{CATALOGUE_FILE}` ({code(schema.get('$schema', ''))}), "
        f'[download](schemas/{file_name}){{: download="{file_name}" }}. {schema.get("description", "")}',
        f"### {schema.get('title', 'Document')} {{#{_anchor('document-' + file_name.split('.')[0])}}}",
        _object_table(schema),
    ]
    for name, definition in sorted(schema.get("$defs", {}).items()):
        blocks += [f"### {name} {{#{_anchor(name)}}}", definition.get("description", ""), _object_table(definition)]
    return "\n\n".join(block for block in blocks if block)


def _table_schema_section(file_name: str, schema: Mapping[str, Any]) -> str:
    rows = []
    for column in schema.get("fields", ()):
        constraints = dict(column.get("constraints", {}))
        required = constraints.pop("required", False)
        rows.append(
            (
                code(column["name"]),
                column.get("type", "any"),
                "yes" if required else "no",
                "; ".join(schema_constraints(constraints)),
                column.get("description", ""),
            )
        )
    key = ", ".join(code(name) for name in schema.get("primaryKey", ()))
    blocks = [
        f"## {file_name}",
        f'Table Schema of `{SUMMARY_FILE}` ({code(schema.get("$schema", ""))}), [download](schemas/{file_name}){{: download="{file_name}" }}. '
        f"{schema.get('description', '')}",
        f"Primary key: {key}." if key else "",
        table(("Column", "Type", "Required", "Constraints", "Description"), rows),
    ]
    return "\n\n".join(block for block in blocks if block)


def schema_page(title: str, schemas: Mapping[str, Any]) -> str:
    """Every field of every file in ``schemas/``: type, whether required, constraints, description."""
    intro = (
        "The published contract of the data, rendered from `schemas/` (which `catalogue schemas` generates "
        "from the code). Readers in any language can validate the downloads against these files."
    )
    sections = [_table_schema_section(name, schema) if "fields" in schema else _json_schema_section(name, schema) for name, schema in sorted(schemas.items())]
    return page(title, intro, *sections)


# --- verification ----------------------------------------------------------------------------------

_KIND_LABELS = {"files": "Files (JSON and CSV)", "records": "Records", "values": "Values compared", "csv_rows": "CSV rows", "schemas": "Schema files"}

_CHECKS = (
    "the schema of the header and of every record, naming the field of each failure;",
    "no two records for the same model and pruning percentage; the header's counts;",
    "every integer (sizes, parameter counts, reductions) against the closed form of the record's architecture, exactly;",
    "every rounded value against the exact value rounded as the data rounds it;",
    "each record's architecture against the model registry (`data/models/`);",
    "the CSV: its columns, its table schema, one row per successful record, every cell equal to the record it projects;",
    "that `schemas/` holds what the code generates;",
    "that the generated pages of this site show the data: each is rendered again from the records and compared, "
    "and each chart carries a fingerprint of the numbers it draws. That check is not counted below, so that this "
    "page does not depend on itself.",
)


def verification_page(title: str, summary: VerificationSummary) -> str:
    """What ``catalogue verify`` checked on the data this site shows, and what it found."""
    found = (
        "it found **no problems**."
        if not summary.problems
        else f"it found **{len(summary.problems)} problem{'s' if len(summary.problems) != 1 else ''}**, listed below."
    )
    blocks = [
        "`catalogue verify` recomputes every number of the catalogue from the architecture in closed form and "
        f"reports every problem at once. On the data this site shows, {found}",
        table(("Checked", "Count"), [(_KIND_LABELS.get(kind, kind.replace("_", " ").capitalize()), count) for kind, count in summary.checked], "lr"),
    ]
    if summary.problems:
        blocks.append(
            "## Problems\n\n"
            + table(
                ("File", "Record", "Field", "Expected", "Found", "Message"),
                [(PurePosixPath(p.file.replace("\\", "/")).name, p.record, p.field, p.expected, p.found, p.message) for p in summary.problems],
            )
        )
    blocks.append("## What it checks\n\n" + bullets(_CHECKS))
    blocks.append(
        "## Run it\n\n```bash\ncatalogue verify\ncatalogue verify --format json\n```\n\nExit status 0 means no problems, 1 problems found, 2 unreadable input."
    )
    return page(title, *blocks)


# --- downloads -------------------------------------------------------------------------------------


def _contents(path: str, records: tuple[ExpansionRecord, ...]) -> str:
    successful = sum(record.status == "success" for record in records)
    name = PurePosixPath(path).name
    if name == CATALOGUE_FILE:
        return (
            f"Every record ({len(records)}: {successful} successful, {len(records) - successful} failed) in the "
            "study's layout, plus the exact ratio, the whole architecture and provenance."
        )
    if name == SUMMARY_FILE:
        return f"One row per successful record ({successful}): the study's columns, then exact sizes and counts."
    if name == OUTCOMES_FILE:
        return "Every value measured on a record (scores and efficiency) with its source file, and every value left out with the reason."
    if name == OUTCOMES_CSV_FILE:
        return "One row per stored outcome: record, task or workload, measure, value, spread and source."
    if name.endswith(".tableschema.json"):
        return "Table Schema of the CSV (Frictionless)."
    if name.endswith(".schema.json"):
        return "JSON Schema of the JSON."
    return ""


def download_item(path: str, content: bytes, records: tuple[ExpansionRecord, ...]) -> str:
    """One file: a link that downloads it, its size, what it holds, and its SHA-256 (a copy button beside it)."""
    name = PurePosixPath(path).name
    return (
        f'**[{name}]({path}){{: download="{name}" }}** — <span title="{count(len(content))} bytes">'
        f"{human_size(len(content))}</span>. {_contents(path, records)}<br>\n"
        f"  SHA-256 `{hashlib.sha256(content).hexdigest()}`{{: .catalogue-hash }}"
    )


def downloads_page(title: str, downloads: Mapping[str, bytes], records: tuple[ExpansionRecord, ...]) -> str:
    """The files the site offers: what they hold, their size and SHA-256."""
    validate = (
        "```bash\n"
        "pip install jsonschema\n"
        f"python -c \"import json, jsonschema; jsonschema.validate(json.load(open('{CATALOGUE_FILE}')), "
        f"json.load(open('{CATALOGUE_SCHEMA_FILE}')))\"\n"
        "```"
    )
    return page(
        title,
        "The data and its schemas, copied from `data/` and `schemas/` when the site is built. A click on a name "
        "downloads the file; the SHA-256 identifies the exact file the pages of this site were rendered from.",
        bullets(download_item(path, content, records) for path, content in sorted(downloads.items())),
        "Validate the JSON against its schema, in the directory you downloaded both to:\n\n" + validate,
    )


# --- reproduce -------------------------------------------------------------------------------------


def _build_commands(records: Iterable[ExpansionRecord]) -> list[str]:
    """One ``catalogue build`` per (method, set of levels), with the models built that way."""
    plans: dict[tuple[str, tuple[int, ...]], list[str]] = {}
    levels_by: dict[tuple[str, str], set[int]] = {}
    for record in records:
        method = record.provenance.method if record.provenance else "closed-form"
        levels_by.setdefault((method, record.base_model), set()).add(record.pruning_pct)
    for (method, model), levels in sorted(levels_by.items()):
        plans.setdefault((method, tuple(sorted(levels))), []).append(model)
    commands = []
    for (method, levels), models in plans.items():
        flag = " --closed-form" if method == "closed-form" else ""
        commands.append(f"catalogue build --force{flag} --models {','.join(models)} --levels {','.join(str(p) for p in levels)}")
    return commands


def reproduce_page(title: str, records: tuple[ExpansionRecord, ...]) -> str:
    """The commands that rebuild the data from the registry, verify it, and rebuild this site."""
    setup = (
        "```bash\n"
        "python -m venv .venv && . .venv/bin/activate\n"
        "pip install -e '.[generate,docs,test]'   # generate: torch, transformers, optipfair, for catalogue build\n"
        "```"
    )
    build = "```bash\n" + "\n".join(_build_commands(records)) + "\n```"
    check = (
        "```bash\n"
        "catalogue verify           # recompute every number; exit 1 on any problem, stale pages included\n"
        "catalogue docs --check     # only the site: exit 1 if a page or chart is stale\n"
        "```"
    )
    site = (
        "```bash\n"
        "catalogue docs             # rewrite the generated pages and charts of docs/ from data/\n"
        "mkdocs build --strict      # the site, into site/\n"
        "mkdocs serve               # browse it locally, rebuilt on every change\n"
        "python -m pytest -q        # the tests, the site's tables checked cell by cell among them\n"
        "```"
    )
    return page(
        title,
        "In a clone of the repository (Python as `requires-python` in `pyproject.toml` asks):\n\n" + setup,
        "## Rebuild the data\n\nThese commands rewrite `data/`, `schemas/` and the generated pages of `docs/` "
        "in one atomic step, with the models and pruning levels the catalogue holds now:\n\n" + build,
        "## Verify\n\n" + check,
        "## Rebuild the site\n\n" + site,
    )
