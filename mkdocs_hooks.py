"""mkdocs hooks of the site (mkdocs.yml ``hooks:``); standard library, mkdocs and the package's command registry only.

* ``on_config``:
  - the nav entry ``families/index.md`` (the list of every model) becomes a section holding it
    and, per family, a section of the family's page and its models' pages. The order comes from
    the generated pages' front matter (``families:`` on the list, ``title`` and ``models:`` on a
    family's page), so a new family or model needs no edit here;
  - the nav entry ``outcomes/index.md`` becomes a section holding it and the pages its front
    matter lists (``pages:``: a page per task and workload, then the results as checked);
  - the nav entry ``commands/index.md`` becomes a section holding it and a page per command, in
    the order the commands declare (``glu_catalogue/cli/registry.py``), so a new command needs no edit here;
  - the project's addresses, version and licence come from pyproject.toml ([project] and
    [project.urls], their only home), or from ``extra.project`` where ``catalogue site`` wrote
    the configuration from the installed package: the repository link and licence in the
    footer, and (for the repository's own build) ``site_url`` where ``$CATALOGUE_SITE_URL`` does not set it;
  - the catalogue's schema version and the date its data was built (the data file's header)
    go to ``extra.catalogue``, which the header shows (overrides/partials/header.html).
* ``on_files``: the downloads (``data/*.json``, ``data/*.csv``, ``schemas/*.json``) and
  ``CITATION.cff`` are added to the site as they are on disk; the downloads page links there.
* ``on_page_markdown``: the Cite page's ``<!-- citation -->`` becomes the citation of
  ``CITATION.cff`` (text and BibTeX), with the addresses from pyproject.toml; the Commands page's
  ``<!-- commands -->`` a table of every command (its page, its help's first sentence).
"""

from __future__ import annotations

import json
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.utils import meta, yaml_load

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the `docs` extra installs tomli
    import tomli as tomllib

FAMILIES_INDEX = "families/index.md"
OUTCOMES_INDEX = "outcomes/index.md"
COMMANDS_INDEX = "commands/index.md"
COMMANDS_MARKER = "<!-- commands -->"
DOWNLOADS = {"data": ("*.json", "*.csv"), "schemas": ("*.json",)}
CITATION = "CITATION.cff"
CITATION_MARKER = "<!-- citation -->"
CATALOGUE = "data/expansion_rates.json"


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def _front_matter(path: Path) -> dict:
    try:
        return meta.get_data(path.read_text(encoding="utf-8"))[1]
    except OSError as error:
        raise PluginError(f"{path}: cannot read: {error.strerror} (run `catalogue docs`)") from None


def project(config) -> dict:
    """The project's name, version, licence and addresses: ``extra.project`` where ``catalogue site`` wrote the
    configuration (from the installed package), else pyproject.toml's [project] table beside mkdocs.yml."""
    if "project" in config.extra:
        return config.extra["project"]
    with (_root(config) / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["project"]


def _models_section(config) -> list:
    docs = Path(config.docs_dir)
    section: list = [FAMILIES_INDEX]
    for family_page in _front_matter(docs / FAMILIES_INDEX).get("families", []):
        family = _front_matter(docs / family_page)
        section.append({family.get("title", family_page): [family_page, *family.get("models", [])]})
    return section


def _outcomes_section(config) -> list:
    return [OUTCOMES_INDEX, *_front_matter(Path(config.docs_dir) / OUTCOMES_INDEX).get("pages", [])]


def _command_registry():
    # Imported here, not at the top: the package is installed wherever the site is built (mkdocs-click imports it too).
    from glu_catalogue.cli.registry import load_commands

    return load_commands()


def _commands_section(config) -> list:
    return [COMMANDS_INDEX, *_command_registry().nav()]


def commands_table() -> str:
    """Every command of ``catalogue`` with its page and its help's first sentence, as a Markdown table."""
    rows = ["| Command | What it does |", "| --- | --- |"]
    for entry in _command_registry().entries():
        summary = entry.command.get_short_help_str(limit=200).replace("|", "\\|")
        rows.append(f"| [`{entry.title}`]({entry.page.removeprefix('commands/')}) | {summary} |")
    return "\n".join(rows)


#: Nav entries that become sections: built from the generated pages' front matter, or (the commands) from the package.
SECTIONS = {FAMILIES_INDEX: _models_section, OUTCOMES_INDEX: _outcomes_section, COMMANDS_INDEX: _commands_section}


def _data_header(config) -> dict:
    path = _root(config) / CATALOGUE
    try:
        metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError) as error:
        raise PluginError(f"{path}: cannot read the catalogue's header ({error})") from None
    return {"schema_version": metadata.get("schema_version") or "none", "data_date": str(metadata.get("generated_at", ""))[:10]}


def on_config(config):
    """The models' and outcomes' navigation, the project's addresses and licence, and the data's version and date."""
    for index, item in enumerate(config.nav or []):
        if isinstance(item, dict):
            ((title, target),) = item.items()
            if isinstance(target, str) and target in SECTIONS:
                config.nav[index] = {title: SECTIONS[target](config)}
    info = project(config)
    urls = info.get("urls", {})
    repository = urls.get("Homepage", "")
    if not config.site_url and "project" not in config.extra:  # a workspace's site has only the address it names
        config.site_url = urls.get("Documentation") or None
    licence = info.get("license", {}).get("text", "")
    config.copyright = (
        f'{info["name"]} {info["version"]} · licence <a href="{repository}/blob/main/LICENSE">{licence}</a> · <a href="{repository}">repository</a>'
    )
    config.extra["social"] = [{"icon": "fontawesome/brands/github", "link": repository, "name": "Repository"}]
    config.extra["catalogue"] = _data_header(config)
    return config


def on_files(files: Files, config) -> Files:
    """Add the data files, the schemas and CITATION.cff to the site, unchanged."""
    root = _root(config)
    for folder, patterns in DOWNLOADS.items():
        found = sorted(path for pattern in patterns for path in (root / folder).glob(pattern))
        if not found:
            raise PluginError(f"{root / folder}: no files to offer for download")
        for path in found:
            files.append(File.generated(config, f"{folder}/{path.name}", abs_src_path=str(path)))
    files.append(File.generated(config, CITATION, abs_src_path=str(root / CITATION)))
    return files


def citation_markdown(citation: dict, urls: dict) -> str:
    """The citation as a sentence and as BibTeX."""
    authors = " and ".join(author.get("name") or f"{author['given-names']} {author['family-names']}" for author in citation["authors"])
    url = urls.get("Homepage", "")
    text = f"{authors}. *{citation['title']}*. Version {citation['version']}, {citation['license']}. <{url}>"
    bibtex = (
        "@software{glu_catalogue,\n"
        f"  title   = {{{citation['title']}}},\n"
        f"  author  = {{{{{authors}}}}},\n"
        f"  version = {{{citation['version']}}},\n"
        f"  license = {{{citation['license']}}},\n"
        f"  url     = {{{url}}}\n"
        "}"
    )
    return f"{text}\n\n```bibtex\n{bibtex}\n```"


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Fill the Cite page from CITATION.cff, the Commands page from the command registry."""
    if COMMANDS_MARKER in markdown:
        return markdown.replace(COMMANDS_MARKER, commands_table())
    if CITATION_MARKER not in markdown:
        return markdown
    path = _root(config) / CITATION
    try:
        citation = yaml_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PluginError(f"{path}: cannot read: {error.strerror}") from None
    return markdown.replace(CITATION_MARKER, citation_markdown(citation, project(config).get("urls", {})))
