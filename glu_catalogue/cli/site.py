"""``catalogue schemas`` and ``catalogue docs``: the generated schemas and site pages, rewritten or checked."""

from __future__ import annotations

import sys

import click

from ..errors import EXIT_OK, EXIT_PROBLEMS
from .output import Failure


@click.command()
@click.option("--check", is_flag=True, help="Only report stale files; exit 1 if any.")
def schemas(check: bool) -> None:
    """Regenerate schemas/ (JSON Schema of the catalogue, Table Schema of the CSV) from the code.

    \b
    Example:
      catalogue schemas --check
    """
    from ..store.paths import schemas_dir
    from ..store.schemas import rendered_schemas, stale_schemas
    from ..store.writing import recover, write_files

    directory = schemas_dir()
    recover(directory)
    if check:
        stale, _ = stale_schemas(directory)
        for name, reason in stale:
            click.echo(f"{directory / name}: {reason}")
        sys.exit(EXIT_PROBLEMS if stale else EXIT_OK)
    rendered = rendered_schemas()
    changed = write_files({directory / name: text for name, text in rendered.items()}, journal_dir=directory)
    click.echo(f"{len(changed)} of {len(rendered)} schema files rewritten in {directory}")


@click.command()
@click.option("--check", is_flag=True, help="Only report stale pages and charts; exit 1 if any.")
def docs(check: bool) -> None:
    """Regenerate the site's pages and charts in docs/ from data/ and schemas/.

    Writes one page per model family, the cross-model equivalence table, the key observations,
    the charts (light and dark), the schema reference, the verification status, downloads and
    reproduce pages; deletes generated pages the data no longer has. `catalogue build` does
    the same; `catalogue verify` fails while they are stale. Hand-written files are not touched.

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
        raise Failure(f"no docs/ beside {data_dir}: the site is generated in a source checkout")
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
        raise Failure(f"drawing the charts needs matplotlib ({error}): pip install -e '.[docs]'") from None
    click.echo(f"{len(changed)} files rewritten, {len(deleted)} deleted in {docs_dir}")
