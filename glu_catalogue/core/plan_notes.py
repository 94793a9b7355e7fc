"""What the planner says besides numbers: its statuses, what each means, and the notes of its rows.

Plain data, so that both planners say the same words: ``catalogue plan`` (``planning.planner``)
fills the note templates with ``str.format`` in Python, and the site's planner fills the same
templates in the browser (``site.data`` ships them). Standard library and ``core.formulas`` only.
"""

from __future__ import annotations

from typing import Any, Literal

from . import formulas

#: A row's status; ``STATUS_MEANINGS`` says what each means (the site's planner page shows them).
Status = Literal["ok", "below-target", "refused", "fused-mlp", "not-prunable"]

STATUS_MEANINGS: dict[str, str] = {
    "ok": "optipfair prunes the model to the row's width.",
    "below-target": "the unpruned ratio is already at or below the target: optipfair refuses, there is nothing to prune.",
    "refused": "optipfair raises an error for these arguments; the note says why.",
    "fused-mlp": (
        "optipfair's MLP_GLU pruning refuses the model's fused gate_up_proj (Phi-3); the numbers are those of "
        "the same model with the projection split into gate_proj and up_proj, which `catalogue build` prunes."
    ),
    "not-prunable": (
        "the model cannot be width-pruned by optipfair (a mixture of experts: it prunes dense GLU MLPs, not experts); "
        "the note says why, the unpruned model is still counted."
    ),
}

FUSED_NOTE = (
    "optipfair 0.4.2 refuses fused gate_up_proj layers; `catalogue build` prunes them itself with "
    "optipfair's ranking (the gate and up halves), and these are the numbers it gives"
)

#: The notes of rows without numbers, as ``str.format`` templates.
NOTE_TEMPLATES = {
    "below-target": (
        "baseline ratio {baseline_ratio:.4g}x ({intermediate_size}/{hidden_size}) is already at or below "
        "the target {target_ratio:g}x: nothing to prune (optipfair refuses such a target)"
    ),
    "refused": "optipfair refuses: {error}",
    "not-prunable": "not prunable by optipfair: {reason}",
    "mixture-of-experts": (
        "a mixture of experts ({total_millions:,.2f} M parameters, {active_millions:,.2f} M active per token): "
        "not prunable by optipfair, which prunes dense GLU MLPs, not experts"
    ),
}


def pruned_status(fused_gate_up: bool) -> tuple[Status, str | None]:
    """The status and note of a row optipfair's size rule prunes: ``ok``, or ``fused-mlp`` with its note."""
    return ("fused-mlp", FUSED_NOTE) if fused_gate_up else ("ok", None)


def not_prunable_note(entry: Any) -> str:
    """The note of a registry entry optipfair cannot prune (``entry.not_prunable`` says why).

    A mixture of experts' note names its total and the parameters active per token (millions).
    ``entry`` is a ``store.registry.ModelEntry`` or anything with its ``not_prunable``,
    ``experts`` and ``architecture``.
    """
    experts = entry.experts
    if experts is None:
        return NOTE_TEMPLATES["not-prunable"].format(reason=entry.not_prunable)
    total = formulas.total_parameters(entry.architecture)
    active = formulas.active_parameters(entry.architecture, experts)
    return NOTE_TEMPLATES["mixture-of-experts"].format(total_millions=formulas.millions(total), active_millions=formulas.millions(active))


def model_status(entry: Any) -> tuple[Status, str | None]:
    """The status and note of every row that prunes ``entry``: ``not-prunable`` (and why), ``fused-mlp`` or ``ok``."""
    if entry.not_prunable:
        return "not-prunable", not_prunable_note(entry)
    return pruned_status(entry.architecture_facts.fused_gate_up)
