"""mkdocs hooks of the site (mkdocs.yml ``hooks:``); standard library and mkdocs only.

* ``on_config``: the nav entry ``families/index.md`` becomes a section holding it and every
  generated family page (``docs/families/*.md``), so a new family needs no edit here.
* ``on_files``: the downloads (``data/*.json``, ``data/*.csv``, ``schemas/*.json``) are added to
  the site as they are on disk, at ``data/...`` and ``schemas/...``; the downloads page links
  there and shows each file's SHA-256.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

FAMILIES_INDEX = "families/index.md"
DOWNLOADS = {"data": ("*.json", "*.csv"), "schemas": ("*.json",)}


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_config(config):
    """Expand the ``families/index.md`` nav entry into a section with every family page."""
    families = sorted(Path(config.docs_dir, "families").glob("*.md"))
    pages = [FAMILIES_INDEX] + [f"families/{path.name}" for path in families if path.name != "index.md"]
    for index, item in enumerate(config.nav or []):
        if isinstance(item, dict):
            (title, target), = item.items()
            if target == FAMILIES_INDEX:
                config.nav[index] = {title: pages}
    return config


def on_files(files: Files, config) -> Files:
    """Add the data files and schemas to the site, unchanged."""
    root = _root(config)
    for folder, patterns in DOWNLOADS.items():
        found = sorted(path for pattern in patterns for path in (root / folder).glob(pattern))
        if not found:
            raise PluginError(f"{root / folder}: no files to offer for download")
        for path in found:
            files.append(File.generated(config, f"{folder}/{path.name}", abs_src_path=str(path)))
    return files
