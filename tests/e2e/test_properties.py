"""Property-based: any JSON value in any field of a record, any bytes in a safetensors header.

Whatever hypothesis puts there, a command exits 0, 1 or 2, prints one line on stderr when it
exits 2, never a traceback, and writes nothing. A catalogue ``verify`` accepts must also be
valid against the published JSON Schema (an independent validator), and a value of another
JSON kind than the field's (a list for a number, a string for a boolean) is never accepted.
The CLI runs in-process (click's runner) to keep the examples cheap; the runs are bounded and
deterministic (``derandomize``).
"""

from __future__ import annotations

import copy
import json
import struct
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import DATA, REPO, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors_files import SMALL, header_bytes, llama_config, llama_tensors

#: Bounded and deterministic: the same examples on every run; about 10 s for both tests.
SETTINGS = settings(max_examples=75, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
HEADER_SETTINGS = settings(SETTINGS, max_examples=300)

CATALOGUE = json.loads((DATA / "expansion_rates.json").read_text())
RECORD = CATALOGUE["models"][0]
CSV_LINES = (DATA / "expansion_rates_summary.csv").read_text().splitlines()[:2]
SCHEMA = json.loads((REPO / "schemas" / "expansion_rates.schema.json").read_text())

#: A value at an edge of some check: beyond a float, beyond 2**53, negative, empty, non-finite.
EDGES = st.sampled_from([10**400, -(10**400), 2**53 + 1, 2**63, -1, 0, 0.0, -0.0, 1e308, float("nan"), float("inf"), "", "1.0", "\n"])
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | EDGES
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=5)


def field_paths(value: Any, prefix: tuple) -> list[tuple]:
    """Every path to a field of ``value``'s objects (nested objects included)."""
    paths = []
    for key, inner in value.items():
        paths.append((*prefix, key))
        if isinstance(inner, dict):
            paths += field_paths(inner, (*prefix, key))
    return paths


FIELDS = field_paths(CATALOGUE["metadata"], ("metadata",)) + field_paths(RECORD, ("models", 0))


def kind(value: Any) -> str:
    """The JSON kind of a value: number (int or float), boolean, string, array, object or null."""
    if isinstance(value, bool):
        return "boolean"
    return {int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "null")


def snapshot(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def assert_clean_exit(result, *allowed: int) -> None:
    """Exit code among ``allowed``; no traceback; exit 2 is one line on stderr."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in allowed, result.stdout + result.stderr
    if result.exit_code == 2:
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("error: ")


@SETTINGS
@given(path=st.sampled_from(FIELDS), value=JSON_VALUES)
def test_any_json_value_in_any_field(path, value):
    document = copy.deepcopy({**CATALOGUE, "models": [RECORD]})
    document["metadata"].update(total_models=1, successful=1, failed=0)
    target = document
    for key in path[:-1]:
        target = target[key]
    original = target[path[-1]]
    target[path[-1]] = value
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        (directory / "expansion_rates.json").write_text(json.dumps(document, allow_nan=True))
        (directory / "expansion_rates_summary.csv").write_text("\n".join(CSV_LINES) + "\n")
        before = snapshot(directory)
        result = invoke("verify", str(directory))
        assert_clean_exit(result, 0, 1, 2)
        assert snapshot(directory) == before
    if value is not None and kind(value) != kind(original):
        assert result.exit_code != 0, (path, value)
    if result.exit_code == 0:
        jsonschema.validate(document, SCHEMA)


# --- safetensors headers ----------------------------------------------------------------------------

VALID_TENSORS = llama_tensors(SMALL)
NAMES = st.sampled_from([*VALID_TENSORS, "__metadata__", "lm_head.weight"]) | st.text(max_size=12)
DTYPES = st.sampled_from(["F32", "BF16", "F16", "I64", "F4", "F6_E2M3", "BOOL", "X99"]) | JSON_VALUES
SIZES = st.integers(min_value=-2, max_value=300) | EDGES
ENTRY = st.fixed_dictionaries(
    {"dtype": DTYPES, "shape": st.lists(SIZES, max_size=3) | JSON_VALUES, "data_offsets": st.lists(SIZES, min_size=0, max_size=3) | JSON_VALUES}
)


@st.composite
def edited_header(draw) -> bytes:
    """A valid header of the small Llama with one tensor's entry, a name, or the metadata changed."""
    raw, _ = header_bytes(VALID_TENSORS)
    document = json.loads(raw)
    name = draw(st.sampled_from(sorted(document)))
    choice = draw(st.sampled_from(["entry", "field", "drop", "add"]))
    if choice == "entry":
        document[name] = draw(ENTRY | JSON_VALUES)
    elif choice == "field" and isinstance(document[name], dict) and document[name]:
        document[name][draw(st.sampled_from(sorted(document[name])))] = draw(JSON_VALUES)
    elif choice == "drop":
        del document[name]
    else:
        document[draw(NAMES)] = draw(ENTRY)
    return json.dumps(document, allow_nan=True).encode()


HEADERS = st.binary(max_size=200) | edited_header() | st.dictionaries(NAMES, ENTRY, max_size=4).map(lambda d: json.dumps(d).encode())


@HEADER_SETTINGS
@given(header=HEADERS, data=st.binary(max_size=64), length_delta=st.sampled_from([0, 0, 0, 1, -1, 2**40]))
def test_any_bytes_in_a_safetensors_header(header, data, length_delta):
    _, data_bytes = header_bytes(VALID_TENSORS)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        (directory / "config.json").write_text(json.dumps(llama_config(SMALL)))
        with open(directory / "model.safetensors", "wb") as handle:
            handle.write(struct.pack("<Q", max(len(header) + length_delta, 0)) + header + data)
            handle.truncate(8 + len(header) + max(data_bytes, len(data)))  # room for the valid tensors
        before = snapshot(directory)
        for command in (["inspect", str(directory)], ["inspect", str(directory), "--format", "json"], ["verify", "--checkpoint", str(directory)]):
            assert_clean_exit(invoke(*command), 0, 1, 2)
        assert snapshot(directory) == before


@pytest.mark.parametrize("key", sorted(llama_config(SMALL)))
def test_any_json_value_in_a_checkpoint_config_is_one_line_at_worst(tmp_path, key):
    from safetensors_files import write_checkpoint

    for number, value in enumerate([None, True, -1, 0, 10**400, 1.5, "64", [64], {"a": 1}, float("nan")]):
        directory = tmp_path / f"c{number}"
        write_checkpoint(directory, {**llama_config(SMALL), key: value}, VALID_TENSORS)
        before = snapshot(directory)
        assert_clean_exit(invoke("inspect", str(directory)), 0, 1, 2)
        assert snapshot(directory) == before
