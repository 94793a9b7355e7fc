"""How the catalogue writes its values for people (display numbers, ratios, record labels), and reads whole numbers back.

One way each, used by the command line, the site and the verifier's messages. Numbers are
written with ``formulas.DISPLAY_DECIMALS`` decimals, as the data files round them. Whole numbers
written as text (a file's counts, ``MODEL@PCT``, options) are read by ``whole_number`` alone.
"""

from __future__ import annotations

import re

from .formulas import DISPLAY_DECIMALS, millions


def number(value: float, decimals: int = DISPLAY_DECIMALS, grouped: bool = False) -> str:
    """A display value as the data rounds it: ``1155.3`` -> ``1155.30`` (``grouped``: ``1,155.30``)."""
    return f"{value:{',' if grouped else ''}.{decimals}f}"


def ratio(value: float) -> str:
    """An expansion ratio as a multiplier: ``2.4`` -> ``2.40x``."""
    return f"{number(value)}x"


def count(value: int) -> str:
    """A count or size with thousands separators: ``1235814400`` -> ``1,235,814,400``."""
    return f"{value:,}"


#: Units of ``human_size``: powers of 1000, as file managers and browsers show sizes.
_SIZE_UNITS = ("bytes", "kB", "MB", "GB")


def human_size(n_bytes: int, decimals: int = 1) -> str:
    """A file size for people: ``165234`` -> ``165.2 kB`` (decimal units; ``decimals`` after the point)."""
    value, unit = float(n_bytes), 0
    while value >= 1000 and unit < len(_SIZE_UNITS) - 1:
        value, unit = value / 1000, unit + 1
    return f"{n_bytes:,} bytes" if unit == 0 else f"{value:.{decimals}f} {_SIZE_UNITS[unit]}"


def count_millions(count: int) -> str:
    """A parameter count in millions, grouped: ``1235814400`` -> ``1,235.81``."""
    return number(millions(count), grouped=True)


def record_label(model_id: str, pruning_pct: object) -> str:
    """How problems and pages name a record: ``meta-llama/Llama-3.2-1B @ 40%``."""
    return f"{model_id} @ {pruning_pct}%"


#: The most digits a whole number read from text may have: 2**63 has 19; more is never a count,
#: a percentage or a size, and Python's ``int()`` of thousands of digits is slow and then refused.
MAX_WHOLE_DIGITS = 30

_WHOLE = re.compile(r"(?P<sign>[+-]?)(?P<digits>[0-9]+)", re.ASCII)


def whole_number(text: str, *, signed: bool = False, max_digits: int = MAX_WHOLE_DIGITS) -> int | None:
    """``text`` as a whole number, or None: ASCII digits only (``"²"`` and ``"٣"`` are not digits here),
    at most ``max_digits`` of them, spaces around allowed, one leading ``+`` (or ``-`` when ``signed``).

    The one parser for whole numbers written as text: outcome files' counts, n-shot and pruning %,
    ``MODEL@PCT`` labels. Callers turn None into their own one-line message.
    """
    match = _WHOLE.fullmatch(text.strip(" \t\n\r")) if isinstance(text, str) else None
    if match is None or len(match["digits"]) > max_digits or (match["sign"] == "-" and not signed):
        return None
    return int(match["sign"] + match["digits"])


def record_label_parts(label: str) -> tuple[str, int] | None:
    """``meta-llama/Llama-3.2-1B@40`` (``@40%`` too) -> (model id, pruning %); None when it is not MODEL@PCT
    with a whole percentage (the range 0-100 is the caller's to check, to name it)."""
    model_id, at, pct_text = label.rpartition("@") if isinstance(label, str) else ("", "", "")
    pct = whole_number(pct_text.strip().removesuffix("%"), max_digits=3)
    model_id = model_id.strip()
    if not at or not model_id or pct is None:
        return None
    return model_id, pct
