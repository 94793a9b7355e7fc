"""Where the generated pages live, and links between them (paths relative to ``docs/``).

Every model with records has a page of its own (``models/<slug>.md``) whose study table gives
each pruning level a stable anchor (``#pruning-40``); every family has a page
(``families/<slug>/index.md``) that mkdocs-material shows as its navigation section. The outcomes
have a page per lm-eval task (``outcomes/tasks/<slug>.md``) and per efficiency workload
(``outcomes/workloads/<slug>.md``), listed by ``outcomes/index.md``. Links are written relative
to the page that holds them, as mkdocs expects in Markdown.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence

from .markdown import join_and
from .views import FamilyView, ModelGroup, label_parts, short_name, slug

#: The list of every model (the navigation's "Models" section), relative to docs/.
MODELS_PAGE = "families/index.md"
#: The planner page, relative to docs/.
PLANNER_PAGE = "planner.md"
#: The glossary page, relative to docs/.
GLOSSARY_PAGE = "glossary.md"
#: The page that reproduces the study's own description of its data (hand-written, not generated).
STUDY_PAGE = "study.md"
#: The list of every outcome page (the navigation's "Outcomes" section), relative to docs/.
OUTCOMES_PAGE = "outcomes/index.md"
#: What was read from which results file, and every value left out with its reason.
CHECKED_PAGE = "outcomes/checked.md"
#: The folder of an outcome page by the outcome's kind: lm-eval tasks, efficiency workloads.
_OUTCOME_FOLDERS = {"score": "tasks", "efficiency": "workloads"}


def left_out_page(part: int) -> str:
    """A page of the values left out, by file (``part`` from 1): ``outcomes/left-out-1.md``."""
    return f"outcomes/left-out-{part}.md"


def model_page(model_id: str) -> str:
    """A model's page: ``meta-llama/Llama-3.2-1B`` -> ``models/meta-llama-llama-3-2-1b.md``."""
    return f"models/{slug(model_id)}.md"


def model_url(model_id: str) -> str:
    """The site URL of a model's page, relative to the site root (mkdocs' directory URLs)."""
    return f"models/{slug(model_id)}/"


def family_page(view: FamilyView | str) -> str:
    """A family's page: ``families/llama-3-2/index.md`` (a view, or the family's slug)."""
    return f"families/{view if isinstance(view, str) else view.slug}/index.md"


def row_anchor(pruning_pct: int) -> str:
    """The anchor of a pruning level's row in a model page's table: ``pruning-40``."""
    return f"pruning-{pruning_pct}"


def outcome_page(kind: str, name: str) -> str:
    """The page of a task (``kind`` score) or an efficiency workload: ``outcomes/tasks/arc-challenge.md``."""
    return f"outcomes/{_OUTCOME_FOLDERS[kind]}/{slug(name)}.md"


def relative(source: str, target: str) -> str:
    """``target`` (a page path relative to docs/, maybe with ``#anchor``) as linked from page ``source``."""
    path, _, anchor = target.partition("#")
    link = posixpath.relpath(path, posixpath.dirname(source) or ".")
    return f"{link}#{anchor}" if anchor else link


def model_link(source: str, model_id: str, text: str | None = None, pruning_pct: int | None = None) -> str:
    """A Markdown link from page ``source`` to a model's page (or to one row of its table)."""
    target = model_page(model_id) + (f"#{row_anchor(pruning_pct)}" if pruning_pct is not None else "")
    return f"[{text or short_name(model_id)}]({relative(source, target)})"


def group_links(source: str, group: ModelGroup, pruning_pct: int | None = None) -> str:
    """A group's label with each model linked: ``[Llama-3.2-1B](…) (+ [Instruct](…))``."""
    texts = label_parts(group.model_ids)
    head, *extras = [model_link(source, model_id, text, pruning_pct) for model_id, text in zip(group.model_ids, texts)]
    return f"{head} (+ {', '.join(extras)})" if extras else head


def groups_links(source: str, groups: Sequence[ModelGroup], pruning_pct: int | None = None) -> str:
    """Several groups' linked labels: ``A, B and C``."""
    return join_and([group_links(source, group, pruning_pct) for group in groups])


def family_link(source: str, view: FamilyView) -> str:
    """A Markdown link from page ``source`` to a family's page."""
    return f"[{view.name}]({relative(source, family_page(view))})"


def check_unique_model_pages(model_ids: Iterable[str]) -> None:
    """``ValueError`` if two models would share a page (their ids differ only in punctuation or case)."""
    seen: dict[str, str] = {}
    for model_id in model_ids:
        page = model_page(model_id)
        if page in seen:
            raise ValueError(f"models {seen[page]!r} and {model_id!r} would share the page {page}")
        seen[page] = model_id
