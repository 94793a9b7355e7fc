"""The catalogue a data directory holds: read and validated, or None where there is none yet."""

from __future__ import annotations

import os
from pathlib import Path

from ..core.records import Catalogue
from ..errors import BuildError
from .paths import CATALOGUE_FILE
from .reading import ReadError, load_catalogue


def existing_catalogue(data_dir: Path) -> Catalogue | None:
    """The catalogue already in ``data_dir`` (None if there is none yet); one line when it cannot be read or is not valid."""
    path = Path(data_dir) / CATALOGUE_FILE
    if not os.path.lexists(path):
        return None
    try:
        return load_catalogue(path)
    except ReadError as error:
        raise BuildError(f"{error}; fix or move the file, the catalogue will not overwrite it") from None
    except ValueError as error:  # pydantic's ValidationError
        first = str(error).splitlines()[0]
        raise BuildError(f"{path}: not a valid catalogue ({first}); run `catalogue verify {path}`") from None
