"""A workspace: a directory that is a catalogue of one's own (``catalogue init``), found as git finds a repository.

A workspace is a directory holding ``catalogue.toml``. Every command run in it or below it reads
the shipped catalogue (the registry, records and outcomes installed with the package, read-only)
plus the workspace's own files as one catalogue, and writes only into the workspace:

```
mystudy/
├── catalogue.toml        the settings (SETTINGS_TEMPLATE documents every key)
├── data/                 the workspace's own catalogue, as a build writes it
│   ├── models/           registry additions (catalogue add)
│   ├── expansion_rates.json, expansion_rates_summary.csv   its records
│   └── outcomes.json, outcomes.csv, measurements/           its outcomes and measurements
├── docs/                 (optional) pages of one's own, laid over the shipped pages by catalogue site
└── site/                 what catalogue site builds
```

The settings record the package and schema versions that wrote them: a workspace written by a
newer package (another settings format or a newer schema) is refused with one line naming the
upgrade; an older one is read as it is and never rewritten.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .._version import __version__
from ..core.records import SCHEMA_VERSION
from ..errors import UsageError
from .reading import MAX_SMALL_FILE_BYTES, ReadError, read_text

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: a dependency installs tomli there
    import tomli as tomllib  # type: ignore[no-redef]

#: The settings file whose presence makes a directory a workspace.
SETTINGS_FILE = "catalogue.toml"
#: The settings' own format; a workspace with a higher one was written by a newer package.
WORKSPACE_FORMAT = 1
#: The folders of a workspace, relative to its root.
DATA_DIR, DOCS_DIR, SITE_DIR = "data", "docs", "site"

#: What ``catalogue init`` writes: every key, with what it does.
SETTINGS_TEMPLATE = """\
# A catalogue of one's own (glu-catalogue): `catalogue` commands run in this directory or below it
# read the shipped catalogue plus this workspace's files, and write only here.
# Reference: the site's "Files and promises" page, section Workspace (catalogue init --help).

[workspace]
# The package and schema versions that wrote this file. A newer package reads it as it is;
# an older one refuses it with one line (pip install -U glu-catalogue). Never rewritten.
format = {format}
written_by = "glu-catalogue {version}"
schema_version = "{schema_version}"

[site]
# The title of the site `catalogue site` builds into site/.
title = {title}
# Where the site will be published (its sitemap and 404 page need it); empty: not set.
url = ""

[shipped]
# Which of the shipped registry models (and their records) this catalogue includes:
# "all", "none", or a list of ids and patterns, e.g. ["meta-llama/*", "Qwen/Qwen3-0.6B"].
models = "all"
# Whether the study's outcomes (scores and measurements of the shipped records) are included.
outcomes = true
"""


@dataclass(frozen=True)
class Workspace:
    """A workspace found on disk: its root, and what its settings say."""

    root: Path
    title: str
    site_url: str = ""
    #: "all", "none", or ids and fnmatch patterns of the shipped models it includes.
    shipped_models: str | tuple[str, ...] = "all"
    shipped_outcomes: bool = True
    written_by: str = ""
    schema_version: str = SCHEMA_VERSION
    format: int = WORKSPACE_FORMAT
    notes: tuple[str, ...] = field(default=())

    @property
    def settings_path(self) -> Path:
        """``catalogue.toml``."""
        return self.root / SETTINGS_FILE

    @property
    def data_dir(self) -> Path:
        """The workspace's own catalogue (``data/``)."""
        return self.root / DATA_DIR

    @property
    def registry_dir(self) -> Path:
        """The workspace's registry additions (``data/models/``)."""
        return self.data_dir / "models"

    @property
    def docs_dir(self) -> Path:
        """Pages of the workspace's own, laid over the shipped ones (``docs/``, optional)."""
        return self.root / DOCS_DIR

    @property
    def site_dir(self) -> Path:
        """Where ``catalogue site`` builds the site (``site/``)."""
        return self.root / SITE_DIR

    def includes(self, model_id: str) -> bool:
        """True when the shipped model ``model_id`` is part of this catalogue."""
        if self.shipped_models == "all":
            return True
        if self.shipped_models == "none":
            return False
        return any(fnmatch.fnmatchcase(model_id, pattern) for pattern in self.shipped_models)


def find_workspace(start: Path | None = None) -> Path | None:
    """The nearest directory at or above ``start`` (default: the working directory) holding ``catalogue.toml``."""
    try:
        here = Path(start or Path.cwd()).resolve()
    except (OSError, RuntimeError):  # a removed working directory, a symbolic-link loop
        return None
    for directory in (here, *here.parents):
        if (directory / SETTINGS_FILE).is_file():
            return directory
    return None


def load_workspace(root: Path) -> Workspace:
    """The workspace at ``root``; ``UsageError`` (one line naming the file and key) for settings it cannot use."""
    path = Path(root) / SETTINGS_FILE
    try:
        settings = tomllib.loads(read_text(path, MAX_SMALL_FILE_BYTES))
    except ReadError as error:
        raise UsageError(str(error)) from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: not valid TOML ({error})") from None
    workspace = _section(settings, "workspace", path)
    site = _section(settings, "site", path)
    shipped = _section(settings, "shipped", path)
    found_format = _value(workspace, "format", int, path, WORKSPACE_FORMAT)
    written_by = _value(workspace, "written_by", str, path, "")
    schema_version = _value(workspace, "schema_version", str, path, SCHEMA_VERSION)
    _check_versions(path, found_format, written_by, schema_version)
    return Workspace(
        root=Path(root),
        title=_value(site, "title", str, path, Path(root).name),
        site_url=_value(site, "url", str, path, ""),
        shipped_models=_models(shipped.get("models", "all"), path),
        shipped_outcomes=_value(shipped, "outcomes", bool, path, True),
        written_by=written_by,
        schema_version=schema_version,
        format=found_format,
    )


def _check_versions(path: Path, found_format: int, written_by: str, schema_version: str) -> None:
    """Refuse a workspace this package cannot read as it is; an older one is read unchanged."""
    upgrade = f"written by {written_by or 'another glu-catalogue'}; this is glu-catalogue {__version__}: pip install -U glu-catalogue"
    if found_format > WORKSPACE_FORMAT:
        raise UsageError(f"{path}: workspace format {found_format} is newer than this package reads ({WORKSPACE_FORMAT}), {upgrade}")
    if _major(schema_version, path) > _major(SCHEMA_VERSION, path):
        raise UsageError(f"{path}: schema_version {schema_version} is newer than this package's {SCHEMA_VERSION}, {upgrade}")


def _major(version: str, path: Path) -> int:
    match = re.fullmatch(r"(\d+)\.(\d+)", version)
    if match is None:
        raise UsageError(f"{path}: workspace.schema_version: expected MAJOR.MINOR such as {SCHEMA_VERSION}, found {version!r}")
    return int(match.group(1))


def _section(settings: dict, name: str, path: Path) -> dict:
    section = settings.get(name, {})
    if not isinstance(section, dict):
        raise UsageError(f"{path}: [{name}] must be a table")
    return section


def _value(section: dict, key: str, kind: type, path: Path, default):
    value = section.get(key, default)
    if type(value) is not kind:  # bool is an int: compare the type itself
        raise UsageError(f"{path}: {key}: expected {kind.__name__}, found {value!r}")
    return value


def _models(value, path: Path) -> str | tuple[str, ...]:
    if value in ("all", "none"):
        return value
    if isinstance(value, list) and all(isinstance(item, str) and item for item in value):
        return tuple(value)
    raise UsageError(f'{path}: shipped.models: expected "all", "none" or a list of model ids and patterns, found {value!r}')


def settings_text(title: str) -> str:
    """The ``catalogue.toml`` that ``catalogue init`` writes, titled ``title``."""
    quoted = json.dumps(title, ensure_ascii=False)  # a JSON string is a TOML basic string
    return SETTINGS_TEMPLATE.format(format=WORKSPACE_FORMAT, version=__version__, schema_version=SCHEMA_VERSION, title=quoted)
