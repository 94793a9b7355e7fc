"""``catalogue card`` and the card ``build --save-pruned`` writes: a pruned checkpoint's README.md and ``.eval_results/``.

The checkpoint is inspected against the record first (its headers, ``checkpoints.inspect``): a card
is never written onto a checkpoint that is not the record's model. A README.md that the catalogue
did not write (no ``glu-catalogue`` tag) is left alone, refused in one line. Files are written in
one atomic step inside the checkpoint directory; nothing else is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..checkpoints.inspect import inspect_checkpoint, parse_record_label, successful_records
from ..core.records import ExpansionRecord
from ..core.text import record_label_parts
from ..errors import InputError, RecordNotFound
from ..interop.cards import card_scores, card_text, eval_results_files, reproduce_command
from ..store.local_paths import path_kind
from ..store.outcomes_files import read_outcomes
from ..store.paths import default_data_dir
from ..store.writing import write_files

CARD_FILE = "README.md"

#: What marks a README.md as one the catalogue wrote (a tag in its metadata).
OWN_CARD_MARK = "- glu-catalogue"


@dataclass
class CardWritten:
    """The card written: its directory, the scores it carries, the files whose content changed."""

    directory: Path
    scores: int
    files: tuple[str, ...]
    changed: tuple[Path, ...]


def write_card(label: str, checkpoint: Path, data_dir: Path | None = None) -> CardWritten:
    """(Re)write the model card of record ``label``'s checkpoint in ``checkpoint``, with the record's stored scores."""
    data_dir = Path(data_dir or default_data_dir())
    if record_label_parts(label) is None:  # the one parser of MODEL@PCT: ASCII digits only ("²" passes str.isdigit)
        raise RecordNotFound(f"record {label[:80]!r}: expected MODEL@PCT, e.g. meta-llama/Llama-3.2-1B@40")
    model_id, pct = parse_record_label(label)
    record = successful_records(data_dir)[1].get((model_id, pct))
    if record is None:
        raise RecordNotFound(f"{data_dir}: the catalogue has no successful record {model_id}@{pct}")
    if path_kind(str(checkpoint)) != "directory":
        raise InputError(f"{checkpoint}: --checkpoint must be a checkpoint directory")
    inspection = inspect_checkpoint(checkpoint, record)
    if not inspection.ok:
        first = inspection.report.problems[0]
        raise InputError(
            f"{checkpoint}: not the checkpoint of {model_id}@{pct} ({first.field}: expected {first.expected}, found {first.found}); no card written"
        )
    scores = card_scores(read_outcomes(data_dir).outcomes, f"{model_id}@{pct}")
    return _write(checkpoint, record, scores)


def card_after_build(root: Path, records: list[ExpansionRecord]) -> None:
    """The card of each level a build saved under ``root`` (``--save-pruned``): the record, no scores yet."""
    from ..generate.checkpoint_dirs import pruned_directory  # stdlib-only module: no torch

    for record in records:
        directory = pruned_directory(root, record.base_model, record.pruning_pct)
        if directory.is_dir() and record.status == "success":
            _write(directory, record, [])


def _write(directory: Path, record: ExpansionRecord, scores: list) -> CardWritten:
    readme = directory / CARD_FILE
    if readme.is_file() and OWN_CARD_MARK not in readme.read_text(encoding="utf-8", errors="replace"):
        raise InputError(f"{readme}: a README.md the catalogue did not write: left as it is (move it away to write the card)")
    texts = {readme: card_text(record, scores, reproduce_command(record))}
    texts.update({directory / name: text for name, text in eval_results_files(scores).items()})
    changed = write_files(texts, journal_dir=directory)
    return CardWritten(directory, len(scores), tuple(sorted(str(path.relative_to(directory)) for path in texts)), tuple(changed))
