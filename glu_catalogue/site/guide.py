"""The reader's pages: the glossary (its examples read off the data) and the planner page.

The planner itself runs in the browser (``docs/javascripts/catalogue.js``) on the data of
``glu_catalogue.site.data``; its page holds the explanation, the statuses and an empty element
the script fills.
"""

from __future__ import annotations

from ..core import formulas
from ..core.plan_notes import STATUS_MEANINGS
from ..core.records import ExpansionRecord
from .links import GLOSSARY_PAGE, PLANNER_PAGE, STUDY_PAGE, model_link, relative
from .markdown import bullets, code, count, join_and, page, ratio
from .views import ModelGroup

OPTIPFAIR_URL = "https://github.com/peremartra/optipfair"

GLOSSARY_TITLE = "Glossary"
PLANNER_TITLE = "Planner"


def glossary_page(example: tuple[ModelGroup, ExpansionRecord] | None, optipfair_version: str) -> str:
    """GLU, neuron pair, expansion ratio (three units), pruning percentage, divisor, MAW, weights, the CSV's names."""
    source = GLOSSARY_PAGE
    divisors = join_and([str(value) for value in formulas.EXPANSION_DIVISORS]).replace(" and ", " or ")
    sections = [
        "Terms the pages use. The examples are records of this catalogue.",
        "## GLU {#glu}\n\nA gated linear unit MLP, the feed-forward block of Llama-style decoders: "
        "`down_proj(act(gate_proj(x)) * up_proj(x))`. `gate_proj` and `up_proj` map the hidden size H to the "
        "intermediate size I; `down_proj` maps I back to H. Every model here has one GLU MLP per decoder layer.",
        "## Neuron pair {#neuron-pair}\n\nOne of the I intermediate units of a GLU MLP: a row of `gate_proj`, the "
        "same row of `up_proj` and the matching column of `down_proj`. Width pruning removes whole pairs, the same "
        "number in every layer; the intermediate size is the number of pairs left.",
        _expansion_ratio(source, example),
        _pruning_percentage(source, example),
        f"## Expansion divisor {{#expansion-divisor}}\n\noptipfair's `expansion_divisor` ({divisors}): the kept "
        "width is rounded down to a multiple of it, which some matrix kernels run faster on. The records of this "
        f"catalogue use none; the [planner]({relative(source, PLANNER_PAGE)}) offers it.",
        "## MAW {#maw}\n\nThe way the study chose which neuron pairs to keep, named MAW (Maximum Absolute Weight) in "
        "optipfair's interface: each pair is scored by the range of its weights (max + |min| of its `gate_proj` row, "
        "plus the same of its `up_proj` row) and the lowest-scoring pairs are removed. optipfair's documentation "
        "calls the score Peak-to-Peak Magnitude (PPM) and cites Martra (2025), arXiv:2512.22671, for it.",
        "## Random-init weights {#random-init-weights}\n\nA model built from its real configuration with seeded "
        "random weights instead of its trained checkpoint. Its architecture, MLP widths and parameter counts are the "
        "real model's, so every number on this site is exact; which neurons MAW keeps depends on the weights, so "
        "the kept neurons of such a record are not the real model's choice.",
        "## Baseline {#baseline}\n\nThe unpruned model: pruning 0 %, its configuration's intermediate size.",
        '## "Model Family" in the CSV {#model-family-column}\n\nThe study\'s CSV calls its size-label column '
        '"Model Family" (1B, 3B): all its models were Llama-3.2, so the size told them apart. The catalogue keeps '
        "the column's name, so that code written for the study's files reads these; the family itself (Llama-3.2, "
        "Qwen2.5, …) is on each model's page.",
        f"## optipfair {{#optipfair}}\n\n[optipfair]({OPTIPFAIR_URL}) is the pruning library the study used; the "
        f"records were produced with optipfair {optipfair_version}. Its `prune_model` takes either a "
        "`pruning_percentage` or an `expansion_rate` (a ratio in percent) and an optional `expansion_divisor`.",
        f"## The study {{#the-study}}\n\nThe research this data serves: it prunes the GLU MLPs of Llama-3.2 1B and 3B "
        f"with optipfair (MAW, 0–60 %) and uses the expansion ratio as its independent variable. "
        f"[The study]({relative(source, STUDY_PAGE)}) page reproduces its own description of the data.",
    ]
    return page(GLOSSARY_TITLE, *sections)


def _expansion_ratio(source: str, example: tuple[ModelGroup, ExpansionRecord] | None) -> str:
    text = (
        "## Expansion ratio {#expansion-ratio}\n\n`intermediate_size / hidden_size`: how much wider each MLP is "
        "than the residual stream, the study's independent variable. It is written in three units"
    )
    if example is None:
        return text + ": a multiplier (`2.40x`), a percentage (`expansion_rate_percentage`, optipfair's unit) and a factor (`expansion_rate`)."
    group, record = example
    pruned = record.pruned_architecture
    link = model_link(source, group.model_ids[0], pruning_pct=record.pruning_pct)
    return text + (
        f"; {link} pruned by {record.pruning_pct} % keeps {count(pruned.intermediate_size)} neuron pairs per MLP, "
        f"with a hidden size of {count(pruned.hidden_size)}:\n\n"
        + bullets(
            [
                f"**{ratio(pruned.expansion_rate)}**: a multiplier with two decimals, as the pages write it;",
                f"**{pruned.expansion_rate_percentage:g} %**: the ratio × 100, the JSON's `expansion_rate_percentage` and "
                "the unit of optipfair's `expansion_rate=` argument;",
                f"**{pruned.expansion_rate:g}**: a plain factor, the JSON's `expansion_rate` (rounded to two decimals; "
                f"`expansion_ratio_exact` keeps {pruned.expansion_ratio_exact!r}).",
            ]
        )
    )


def _pruning_percentage(source: str, example: tuple[ModelGroup, ExpansionRecord] | None) -> str:
    text = (
        "## Pruning percentage {#pruning-percentage}\n\noptipfair's `pruning_percentage` p, 0–100: the share of "
        "neuron pairs removed from every MLP. optipfair keeps `I − min(int(p / 100 × I), I − 1)` pairs"
    )
    if example is not None:
        _, record = example
        text += (
            f": {record.pruning_pct} % of {count(record.original_architecture.intermediate_size)} keeps {count(record.pruned_architecture.intermediate_size)}"
        )
    return text + ". The parameter reduction is smaller than p: only the MLPs lose parameters."


def planner_page() -> str:
    """The planner: what it answers, the element the browser code fills, the statuses, the command line."""
    intro = (
        "Choose a target — an [expansion ratio](glossary.md#expansion-ratio) (2.4 for a 2.4x MLP) or a "
        "[pruning percentage](glossary.md#pruning-percentage) — and models, and read what optipfair keeps and what "
        "is left. Computed in your browser with optipfair's size rule: the same answers as "
        "`catalogue plan --format json`. The address bar keeps your choices, so a result can be linked."
    )
    widget = (
        '<div id="catalogue-planner" class="catalogue-planner"></div>\n\n'
        "<noscript><p>The planner runs in your browser and needs JavaScript. Without it, "
        "<code>catalogue plan --ratio 2.4</code> gives the same answers.</p></noscript>"
    )
    statuses = "## Statuses\n\n" + bullets(f"**{code(name)}**: {text}" for name, text in STATUS_MEANINGS.items())
    command = (
        "## On the command line\n\nThe planner shows the command for the current answer. For example:\n\n"
        "```bash\ncatalogue plan --ratio 2.4 --format json\ncatalogue plan --pct 40 --divisor 256\n```"
    )
    return page(PLANNER_TITLE, intro, widget, statuses, command, hide=("toc",))
