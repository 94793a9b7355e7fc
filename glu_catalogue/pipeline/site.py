"""``catalogue site``: a workspace's site, built with mkdocs-material from the sources shipped in the package.

The site's sources are assembled in a temporary directory, never in the package or the workspace:

1. the shipped pages, scripts, styles and images (``paths.shipped_site_dir()/docs``), less the
   study's generated pages and charts, with the workspace's own ``docs/`` laid over them;
2. the catalogue's files (``layers.layered_site_files`` in a workspace of one's own, the data
   directory's own files in the repository) under ``data/`` and ``schemas/``, which the site offers;
3. every generated page and chart, rendered from those files (``site.generated``);
4. ``mkdocs.yml`` from the shipped one, with the workspace's title and address, and the shipped
   hooks and theme overrides named by their installed path.

mkdocs then builds it into ``site/`` (or serves it). The repository's own site is built the same way.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .._version import __version__
from ..errors import SiteError, UsageError
from ..site.data import DATA_FILE
from ..site.generated import generated_texts, is_generated, planned_plots, read_site_files, site_content
from ..site.plots import draw_svg
from ..store.paths import current_workspace, default_data_dir, is_inside_installed_package, is_layered, repository_root, shipped_site_dir
from ..store.registry import load_registry
from ..store.writing import recover_data_dir
from ..verifier.catalogue import verify_contents
from .layers import layered_site_files

#: What the site's sources hold besides docs/ (the merge page shows README.md's Slurm section; the Cite page CITATION.cff).
ROOT_FILES = ("README.md", "CITATION.cff")


@dataclass(frozen=True)
class SiteSettings:
    """What the site is built from and into."""

    title: str
    site_url: str | None
    site_dir: Path
    strict: bool = False


def site_settings(site_dir: Path | None, strict: bool) -> SiteSettings:
    """The current workspace's site settings; ``UsageError`` outside a workspace (the site is a workspace's)."""
    workspace = current_workspace()
    if workspace is None:
        raise UsageError("not in a catalogue workspace: `catalogue init DIR` starts one, then run `catalogue site` in DIR")
    target = Path(site_dir) if site_dir is not None else workspace.site_dir
    _check_target(target)
    return SiteSettings(title=workspace.title, site_url=workspace.site_url or None, site_dir=target, strict=strict)


def _check_target(target: Path) -> None:
    """mkdocs empties the site directory: refuse one that holds something other than a site."""
    if is_inside_installed_package(target):
        raise UsageError(f"{target}: inside the installed package, which is never written")
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not (target / "index.html").is_file())):
        raise UsageError(f"{target}: exists and is not a site mkdocs built (no index.html): name an empty or new directory")


def site_files() -> tuple[Path, dict[str, bytes]]:
    """The data directory the site shows and its files: the layered view in a workspace of one's own."""
    data_dir = default_data_dir()
    if is_layered(data_dir):
        return data_dir, layered_site_files(current_workspace())
    recover_data_dir(data_dir)
    return data_dir, read_site_files(data_dir)


def write_sources(root: Path, settings: SiteSettings) -> Path:
    """Assemble the site's sources in ``root`` (an empty directory); returns its mkdocs.yml."""
    shipped = shipped_site_dir()
    docs = root / "docs"
    _copy_pages(shipped / "docs", docs)
    workspace = current_workspace()
    if workspace is not None and is_layered(workspace.data_dir) and workspace.docs_dir.is_dir():
        shutil.copytree(workspace.docs_dir, docs, dirs_exist_ok=True)
    data_dir, files = site_files()
    registry = load_registry()
    content = site_content(files, registry, verify_contents(data_dir, files, registry))
    for relative, text in generated_texts(content).items():
        _write(docs / relative, text)
    for relative, (spec, palette) in planned_plots(content).items():
        _write(docs / relative, draw_svg(spec, palette))
    for name, content_bytes in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content_bytes)
    for name in ROOT_FILES:
        shutil.copyfile(shipped / name, root / name)
    config = root / "mkdocs.yml"
    _write(config, _config_text(shipped, root, settings))
    return config


def _copy_pages(source: Path, target: Path) -> None:
    """The shipped site pages and assets, less the generated ones (rendered again from the workspace's data)."""
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_dir() or relative.as_posix() == DATA_FILE or is_generated(path):
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / relative)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _config_text(shipped: Path, root: Path, settings: SiteSettings) -> str:
    """The shipped mkdocs.yml with this site's title, address and places (hooks and theme overrides where they are installed)."""
    import yaml
    from mkdocs.utils import yaml_load

    with (shipped / "mkdocs.yml").open(encoding="utf-8") as handle:
        config = yaml_load(handle)
    project = _project()
    config["site_name"] = settings.title
    # $CATALOGUE_SITE_URL first; the repository's own site is published at the project's Documentation address
    config["site_url"] = config.get("site_url") or settings.site_url or (project["urls"].get("Documentation") if _is_repository() else None)
    config["docs_dir"] = str(root / "docs")
    config["site_dir"] = str(settings.site_dir.resolve())
    config["hooks"] = [str(shipped / "mkdocs_hooks.py")]
    config["theme"]["custom_dir"] = str(shipped / "overrides")
    config["watch"] = []
    config.setdefault("extra", {})["project"] = project
    for extension in config["markdown_extensions"]:
        if isinstance(extension, dict) and "pymdownx.snippets" in extension:
            extension["pymdownx.snippets"]["base_path"] = [str(root)]
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def _is_repository() -> bool:
    """True when the current workspace is the source checkout's own (its data is the shipped layer)."""
    workspace = current_workspace()
    return workspace is not None and repository_root() is not None and not is_layered(workspace.data_dir)


def _project() -> dict:
    """The project's name, version, licence and addresses: pyproject.toml's [project] in a source checkout (their
    home), else the installed distribution's metadata (written from it)."""
    root = repository_root()
    if root is None:
        return _installed_project()
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {key: project[key] for key in ("name", "version", "license", "urls") if key in project}


def _installed_project() -> dict:
    from importlib import metadata

    info = metadata.metadata("glu-catalogue")
    urls = dict(entry.split(", ", 1) for entry in info.get_all("Project-URL") or [] if ", " in entry)
    return {"name": info["Name"], "version": info["Version"] or __version__, "license": {"text": info["License"] or ""}, "urls": urls}


@contextmanager
def site_sources(settings: SiteSettings) -> Iterator[Path]:
    """The site's sources assembled in a temporary directory (removed afterwards); yields its mkdocs.yml."""
    with tempfile.TemporaryDirectory(prefix="catalogue-site-") as directory:
        yield write_sources(Path(directory), settings)


def build_site(settings: SiteSettings) -> Path:
    """Build the site into ``settings.site_dir``; ``SiteError`` with mkdocs' last words if it fails. Returns the site directory."""
    with site_sources(settings) as config:
        command = [sys.executable, "-m", "mkdocs", "build", "--quiet", "--config-file", str(config)]
        completed = subprocess.run(command + (["--strict"] if settings.strict else []), capture_output=True, text=True)
    if completed.returncode != 0:
        last = [line for line in (completed.stderr + completed.stdout).splitlines() if line.strip()][-3:]
        raise SiteError(f"mkdocs could not build the site: {' | '.join(last) or 'no output'}")
    return settings.site_dir


def serve_site(settings: SiteSettings, address: str) -> int:
    """Build the site's sources and serve them with ``mkdocs serve`` until interrupted; returns its exit status."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a terminated preview still removes its sources
    with site_sources(settings) as config:
        try:
            return subprocess.run([sys.executable, "-m", "mkdocs", "serve", "--config-file", str(config), "--dev-addr", address]).returncode
        except KeyboardInterrupt:
            return 0
