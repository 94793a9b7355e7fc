"""The outcome readers, each declared once in its own module and found here: adding one is adding a module.

Every module of this package (but this one and helpers named ``_*``) declares ``READERS``, a tuple of
``OutcomeReader``: one per layout it reads (the study's capability module reads a JSON and a CSV
layout). A declaration names the format (the name its values' ``source.format`` carry, which the
stored records accept and the JSON Schema lists: ``core.source_formats``), its kind (a JSON document,
or a CSV told apart by its header), the detector that recognises the layout, what it expects (its
phrase in the one-line error for a file no reader reads) and the function that reads it.

Order and ambiguity: the modules are taken in sorted name order and their declarations as written;
that order is the order of the format list and of the error message, never a priority. Every
detector of a file's kind is asked and a file two of them accept is refused in one line naming both
(``read_outcome_file``), so no reader wins by standing first: detectors must exclude each other, and
tests/outcomes/readers/test_registry_declarations.py holds every example file the tests ship to exactly one reader.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

#: Modules of this package that are not readers.
NOT_READERS = frozenset({"registry"})

Kind = Literal["json", "csv"]


@dataclass(frozen=True)
class OutcomeReader:
    """One layout of outcome file: its format name, its kind, how it is recognised, what it expects, how it is read.

    ``detects`` takes the parsed JSON document (kind ``json``) or the CSV's header, a list of column
    names (kind ``csv``), and says whether the file is of this layout; it must not raise. ``reads``
    takes ``(path, sha256, document)`` (``json``) or ``(path, sha256, header, records)`` (``csv``,
    ``records`` each row with its line number) and returns the file's ``Reading``. ``expects`` is a
    phrase such as ``"codecarbon's emissions.csv"``: the error for an unknown layout lists them all.
    """

    format: str
    kind: Kind
    detects: Callable[[Any], bool]
    expects: str
    reads: Callable[..., Any]


@functools.cache
def outcome_readers() -> tuple[OutcomeReader, ...]:
    """Every declared reader of this package (``discover``), found once."""
    return discover(__package__)


def discover(package_name: str) -> tuple[OutcomeReader, ...]:
    """The readers the modules of ``package_name`` declare: modules in sorted name order, each one's ``READERS`` as written.

    ``TypeError`` for a module that declares none and ``ValueError`` for a format two declare: both are
    defects of the package, found by the first test that reads a file."""
    found: list[OutcomeReader] = []
    package = importlib.import_module(package_name)
    for name in sorted(module.name for module in pkgutil.iter_modules(package.__path__)):
        if name.startswith("_") or name in NOT_READERS:
            continue
        module = importlib.import_module(f"{package_name}.{name}")
        declared = getattr(module, "READERS", None)
        if not isinstance(declared, tuple) or not declared or not all(isinstance(reader, OutcomeReader) for reader in declared):
            raise TypeError(f"{module.__name__} declares no READERS, a tuple of OutcomeReader: every module of {package_name} is a reader")
        found.extend(declared)
    formats = [reader.format for reader in found]
    repeated = sorted({name for name in formats if formats.count(name) > 1})
    if repeated:
        raise ValueError(f"format {repeated[0]!r} is declared by two readers: a format names one layout")
    return tuple(found)


def readers_of(kind: Kind) -> tuple[OutcomeReader, ...]:
    """The declared readers of one kind, in the registry's order."""
    return tuple(reader for reader in outcome_readers() if reader.kind == kind)


def source_formats() -> tuple[str, ...]:
    """Every declared format name, in the registry's order (what ``core.source_formats`` holds)."""
    return tuple(reader.format for reader in outcome_readers())


def expected() -> str:
    """What the catalogue reads, one phrase per reader: the end of the one-line error for a file none reads."""
    phrases = [reader.expects for reader in outcome_readers()]
    return ", ".join(phrases[:-1]) + f" or {phrases[-1]}" if len(phrases) > 1 else phrases[0]


def accepting(kind: Kind, layout: Any) -> list[OutcomeReader]:
    """The readers of ``kind`` whose detector accepts ``layout`` (a parsed JSON document or a CSV header); two or more: the file is ambiguous."""
    return [reader for reader in readers_of(kind) if reader.detects(layout)]
