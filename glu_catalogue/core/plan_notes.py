"""What the planner says besides numbers: its statuses, what each means, and the notes of its rows.

Plain data, so that both planners say the same words: ``catalogue plan`` (``plan.planner``)
fills the note templates with ``str.format`` in Python, and the site's planner fills the same
templates in the browser (``site.data`` ships them). Standard library only.
"""

from __future__ import annotations

from typing import Literal

#: A row's status; ``STATUS_MEANINGS`` says what each means (the site's planner page shows them).
Status = Literal["ok", "below-target", "refused", "fused-mlp"]

STATUS_MEANINGS: dict[str, str] = {
    "ok": "optipfair prunes the model to the row's width.",
    "below-target": "the unpruned ratio is already at or below the target: optipfair refuses, there is nothing to prune.",
    "refused": "optipfair raises an error for these arguments; the note says why.",
    "fused-mlp": (
        "optipfair's MLP_GLU pruning refuses the model's fused gate_up_proj (Phi-3); the numbers are those of "
        "the same model with the projection split into gate_proj and up_proj, which `catalogue build` prunes."
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
}


def pruned_status(fused_gate_up: bool) -> tuple[Status, str | None]:
    """The status and note of a row optipfair's size rule prunes: ``ok``, or ``fused-mlp`` with its note."""
    return ("fused-mlp", FUSED_NOTE) if fused_gate_up else ("ok", None)
