"""``catalogue site``, ``catalogue schemas`` and ``catalogue docs``: a workspace's site, and the generated schemas and pages of the repository's."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EXIT_OK, EXIT_PROBLEMS
from .output import Failure
from .registry import register


@register(nav_order=170, examples="parse", run_with=("--check",))
@click.command()
@click.option("--check", is_flag=True, help="Only report stale files; exit 1 if any.")
def schemas(check: bool) -> None:
    """Regenerate schemas/ (JSON Schema of the catalogue, Table Schema of the CSV) from the code.

    \b
    Example:
      catalogue schemas --check
    """
    from ..store.paths import installed_package_dir, schemas_dir
    from ..store.schemas import rendered_schemas, stale_schemas
    from ..store.writing import recover, write_files

    directory = schemas_dir()
    if not check and installed_package_dir() is not None:
        raise Failure("catalogue schemas rewrites the schemas/ of a source checkout; the installed package's are read-only (--check compares them)")
    if installed_package_dir() is None:
        recover(directory)
    if check:
        stale, _ = stale_schemas(directory)
        for name, reason in stale:
            click.echo(f"{directory / name}: {reason}")
        sys.exit(EXIT_PROBLEMS if stale else EXIT_OK)
    rendered = rendered_schemas()
    changed = write_files({directory / name: text for name, text in rendered.items()}, journal_dir=directory)
    click.echo(f"{len(changed)} of {len(rendered)} schema files rewritten in {directory}")


@register(nav_order=160, examples="parse", run_with=("--check",))
@click.command()
@click.option("--check", is_flag=True, help="Only report stale pages and charts; exit 1 if any.")
def docs(check: bool) -> None:
    """Regenerate the site's pages and charts in docs/ from data/ and schemas/.

    Writes one page per model family, the cross-model equivalence table, the key observations,
    the charts (light and dark), the schema reference, the verification status, downloads and
    reproduce pages; deletes generated pages the data no longer has. `catalogue build` does
    the same; `catalogue verify` fails while they are stale. It also writes the import rules and
    tree of docs/reference/layout.md from the package's modules, between the page's markers.
    Hand-written files and sections are not touched.

    \b
    Example:
      catalogue docs && mkdocs build --strict
      catalogue docs --check
    """
    from ..pipeline.check import docs_report
    from ..pipeline.publish import write_docs
    from ..store.paths import default_data_dir, site_docs_dir
    from ..store.registry import load_registry

    data_dir = default_data_dir()
    docs_dir = site_docs_dir(data_dir)
    if docs_dir is None:
        raise Failure(f"no docs/ beside {data_dir}: a workspace's pages are rendered by `catalogue site`, which builds its site")
    try:
        registry = load_registry()
        if check:
            report = docs_report(data_dir, docs_dir, registry)
            for problem in report.problems:
                click.echo(f"{problem.file}: {problem.field}: {problem.message}")
            sys.exit(EXIT_OK if report.ok else EXIT_PROBLEMS)
        changed, deleted = write_docs(data_dir, docs_dir, registry)
    except OSError as error:
        raise Failure(f"{error.filename}: {error.strerror}") from None
    except ImportError as error:
        raise Failure(f"drawing the charts needs matplotlib ({error}): pip install 'glu-catalogue[docs]'") from None
    click.echo(f"{len(changed)} files rewritten, {len(deleted)} deleted in {docs_dir}")


@register(nav_order=20, examples="parse")
@click.command()
@click.option("--serve", is_flag=True, help="Preview the site at --dev-addr instead of building it (until Ctrl-C).")
@click.option("--dev-addr", default="127.0.0.1:8000", show_default=True, metavar="IP:PORT", help="Where --serve listens.")
@click.option("--site-dir", type=click.Path(path_type=Path, file_okay=False), default=None, help="Build here instead of the workspace's site/.")
@click.option("--strict", is_flag=True, help="Fail on any mkdocs warning (a broken link, a missing page).")
def site(serve: bool, dev_addr: str, site_dir: Path | None, strict: bool) -> None:
    """Build the workspace's site (mkdocs-material) into site/: its models beside the shipped ones it includes.

    The same pages, charts, planner and search as the published catalogue, rendered from the
    workspace's records and outcomes and the shipped ones it includes (catalogue.toml), with its
    title and address. Pages of your own in the workspace's docs/ are laid over the shipped
    ones. Nothing is written but the site directory. Exit 0: built; 2: outside a workspace,
    unreadable data, or mkdocs failed (its last lines said).

    \b
    Example:
      catalogue site && python -m http.server -d site
      catalogue site --serve
    """
    from ..pipeline.site import build_site, serve_site, site_settings
    from ..store.paths import display_path

    settings = site_settings(site_dir, strict)
    try:
        if serve:
            sys.exit(serve_site(settings, dev_addr))
        target = build_site(settings)
    except ImportError as error:
        raise Failure(f"building the site needs mkdocs-material and matplotlib ({error}): pip install 'glu-catalogue[docs]'") from None
    click.echo(f"site {settings.title!r} built in {display_path(target)}/ (open {display_path(target / 'index.html')})")
