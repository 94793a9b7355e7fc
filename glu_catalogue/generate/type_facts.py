"""The per-type facts ``store.known_types`` counts configs with, derived on the meta device ahead of time.

For every dense GLU model type of the coverage table whose parameters the closed form counts
exactly, three tiny builds on the meta device give what a config of that type does not state:

* the default build (``coverage.classify``): biases, q/k norms, norms per layer, fused
  projections, the decoder's path, the MLP's and attention's parameter names, whether optipfair
  prunes it;
* a build without ``head_dim``: whether an absent one is the type's default or H / heads (and,
  from the config object alone, whether an absent ``num_key_value_heads`` is the default or one
  per query head);
* a build with ``head_dim`` 8 (not H / heads) and the embeddings tied the other way: whether the
  class honours the config's ``head_dim`` and ``tie_word_embeddings``.

The result, with the type's default config (less its shape-neutral keys) and the digest of its
source files (``source_files``: the type's configuration and modelling modules, and the modules of
other types they take classes from, as paths inside the transformers package) and of the auto
mappings' lines that name it (``store.installed_transformers.source_digest``), is
``type_facts.json`` in ``store/``. ``python -m glu_catalogue.generate.type_facts`` writes it;
``--check`` compares it with what the installed transformers gives (``tests/generate/test_type_facts.py``
does the same). ``cache_type_facts`` derives one type's facts the same way for a transformers
release whose source of that type differs, and keeps them in the user's cache (``store.facts_cache``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..core.architecture import Architecture
from ..errors import ArchitectureError
from ..store import facts_cache
from ..store.installed_transformers import source_digest, transformers_root
from ..store.known_types import SIZE_KEYS, TYPE_FACTS_FILE, facts_of_entry, is_shape_neutral, type_facts
from .coverage import EXCEPTIONS, TypeCoverage, classify, coverage, tiny_config_values
from .facts import derive_facts
from .meta import build_config, quiet_transformers, transformers_version

#: The flags of an ``Architecture`` a type fixes (the sizes come from each config).
FLAG_KEYS = ("qkv_bias", "o_proj_bias", "mlp_bias", "qk_norm", "norms_per_layer", "fused_qkv", "fused_gate_up", "qk_norm_all_heads", "norm_bias")

#: Flags that show only where heads x head_dim differs from H: read off the probe that makes them differ.
PROBED_FLAGS = ("o_proj_hidden_input",)

#: The head width the probe asks for: not the tiny config's H / heads (64 / 4), so the two are told apart.
PROBE_HEAD_DIM = 8


def generate_type_facts() -> dict[str, Any]:
    """``type_facts.json`` as the installed transformers gives it: every shipped type, and why the others are not."""
    types: dict[str, Any] = {}
    not_shipped: dict[str, str] = {}
    for item in coverage():
        if item.kind != "dense" or item.model_type in EXCEPTIONS:
            continue
        try:
            files = source_files(item.model_type)
            types[item.model_type] = {**type_entry(item), "source_files": files, "source_digest": source_digest(transformers_root(), files, item.model_type)}
        except ArchitectureError as error:
            not_shipped[item.model_type] = str(error)
    return {
        "generated_by": "python -m glu_catalogue.generate.type_facts",
        "transformers_version": transformers_version(),
        "types": types,
        "not_shipped": not_shipped,
    }


def type_entry(item: TypeCoverage) -> dict[str, Any]:
    """One type's facts; ``ArchitectureError`` saying why the type cannot be counted without torch."""
    facts = item.facts
    if facts.closed_form_parameters is None:
        raise ArchitectureError("the closed form does not count all its parameters: counted on the meta device")
    defaults = default_config(item.model_type)
    missing = [
        key for key in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size") if not isinstance(defaults.get(key), int)
    ]
    if missing:
        raise ArchitectureError(f"its default config states no top-level {', '.join(missing)} (its sizes sit in a sub-config)")
    tiny = tiny_config_values(item.model_type)
    flipped_tie = not facts.architecture.tie_word_embeddings
    honoured = _probe(item.model_type, {**tiny, "head_dim": PROBE_HEAD_DIM, "tie_word_embeddings": flipped_tie})
    try:
        absent = _probe(item.model_type, {key: value for key, value in tiny.items() if key != "head_dim"})
    except ArchitectureError:  # transformers refuses a config of this type without head_dim
        absent = None
    head_dim_rule = {PROBE_HEAD_DIM: "config", honoured.hidden_size // honoured.num_attention_heads: "hidden/heads"}.get(honoured.head_dim)
    if head_dim_rule is None:
        raise ArchitectureError(f"its head width follows neither the config's head_dim nor H / heads ({honoured.head_dim})")
    flags = {key: getattr(facts.architecture, key) for key in FLAG_KEYS}
    if any(getattr(probe, key) != value for probe in (absent, honoured) if probe is not None for key, value in flags.items()):
        raise ArchitectureError("its facts change with the sizes: counted on the meta device")
    flags.update({key: getattr(honoured, key) for key in PROBED_FLAGS})
    return {
        "transformers_class": facts.transformers_class,
        "decoder_path": facts.decoder_path,
        "flags": flags,
        "head_dim": head_dim_rule,
        "absent_head_dim": absent_head_dim(absent),
        "absent_kv_heads": absent_kv_heads(item.model_type, tiny),
        "tie": "config" if honoured.tie_word_embeddings == flipped_tie else honoured.tie_word_embeddings,
        "not_prunable": facts.not_prunable,
        "mlp_param_names": list(facts.mlp_param_names),
        "attn_param_names": list(facts.attn_param_names),
        "defaults": defaults,
    }


def source_files(model_type: str) -> list[str]:
    """The files the type's facts follow from, as paths inside the transformers package: its configuration and
    causal-LM modules, and (to closure) the modules of other model types they take classes or functions from."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING

    config_class = CONFIG_MAPPING[model_type]
    modules = {config_class.__module__, MODEL_FOR_CAUSAL_LM_MAPPING[config_class].__module__}
    pending = list(modules)
    while pending:
        for value in vars(sys.modules[pending.pop()]).values():
            name = getattr(value, "__module__", None)
            if isinstance(name, str) and name.startswith("transformers.models.") and not name.startswith("transformers.models.auto.") and name not in modules:
                modules.add(name)
                pending.append(name)
    root = transformers_root()
    return sorted(Path(sys.modules[name].__file__).relative_to(root).as_posix() for name in modules)


def cache_type_facts(model_type: str) -> None:
    """Derive ``model_type``'s facts with the installed transformers on the meta device and keep them in the user's
    cache (or why the closed form cannot count it without torch), for a type ``store.known_types`` says is derivable."""
    known = type_facts(model_type)
    if not known.derivable:
        return
    item = classify(model_type)
    if item.kind == "exception":  # transformers failed to build it at all: nothing to keep, the meta device says why
        return
    try:
        if item.kind != "dense" or model_type in EXCEPTIONS:
            raise ArchitectureError(f"transformers {known.installed} builds it as {item.kind}: {item.reason or 'not a dense GLU decoder'}")
        result: dict[str, Any] = {"entry": type_entry(item)}
    except ArchitectureError as error:
        result = {"not_countable": str(error)}
    facts_cache.write_cached(known.installed, model_type, known.digest, result)


def absent_head_dim(absent: Architecture | None) -> str:
    """What the type's attention makes of a config without ``head_dim``: H / heads, its default, or a refusal (``meta``)."""
    if absent is None:
        return "meta"
    return "hidden/heads" if absent.head_dim == absent.hidden_size // absent.num_attention_heads else "default"


def absent_kv_heads(model_type: str, tiny: dict[str, Any]) -> str:
    """What transformers makes of a config without ``num_key_value_heads``: one per query head, or the type's default."""
    values = {key: value for key, value in tiny.items() if key not in ("num_key_value_heads", "model_type")}
    with quiet_transformers():
        config = build_config({**values, "model_type": model_type})
    return "heads" if config.get_text_config().num_key_value_heads == tiny["num_attention_heads"] else "default"


def default_config(model_type: str) -> dict[str, Any]:
    """The type's default config.json values, less the keys that never change a parameter's shape."""
    import warnings

    from transformers import AutoConfig

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = AutoConfig.for_model(model_type).to_dict()
    return {key: value for key, value in sorted(values.items()) if key in SIZE_KEYS or not is_shape_neutral(key)}


def _probe(model_type: str, values: dict[str, Any]) -> Architecture:
    """The architecture a tiny build of ``values`` gets; ``ArchitectureError`` when transformers refuses it."""
    with quiet_transformers():
        facts = derive_facts({**values, "model_type": model_type})
    if facts.closed_form_parameters is None:
        raise ArchitectureError("the closed form does not count all its parameters at other sizes: counted on the meta device")
    return facts.architecture


def shipped_text(document: dict[str, Any]) -> str:
    """The file's text: sorted keys, one indent, a final newline (so a regeneration diffs cleanly)."""
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def against_shipped(generated: dict[str, Any]) -> tuple[list[str], bool]:
    """For each shipped type, whether its source digest holds in the installed transformers and whether the facts it
    gives equal the shipped ones: one line each, and False where a digest held over facts that changed."""
    shipped = json.loads(TYPE_FACTS_FILE.read_text(encoding="utf-8"))
    lines, sound = [], True
    for model_type, entry in sorted(shipped["types"].items()):
        held = type_facts(model_type).origin == "shipped"
        new = generated["types"].get(model_type)
        same = new is not None and facts_of_entry(new) == facts_of_entry(entry)
        sound &= same or not held
        verdict = "equal" if same else ("not countable" if new is None else "DIFFERENT")
        lines.append(f"{model_type}: source {'unchanged' if held else 'changed'}, facts {verdict}")
    return lines, sound


def main(argv: list[str] | None = None) -> int:
    """Write ``store/type_facts.json``, or (``--check``) exit 1 when it is not what the installed transformers gives, or
    (``--against-shipped``, with another transformers release) exit 1 when a type's source digest held over changed facts."""
    parser = argparse.ArgumentParser(description="Derive the per-type facts the catalogue counts configs with, without torch.")
    parser.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing it")
    parser.add_argument("--against-shipped", action="store_true", help="with another transformers release: is each type's source digest right about its facts?")
    args = parser.parse_args(argv)
    generated = generate_type_facts()
    if args.against_shipped:
        lines, sound = against_shipped(generated)
        print("\n".join(lines))
        changed = sum("source changed" in line for line in lines)
        print(
            f"transformers {generated['transformers_version']}: {len(lines) - changed} of {len(lines)} types' source unchanged; "
            + ("every unchanged type's facts equal the shipped ones" if sound else "a type's source digest held over changed facts")
        )
        return 0 if sound else 1
    text = shipped_text(generated)
    if args.check:
        current = TYPE_FACTS_FILE.read_text(encoding="utf-8") if TYPE_FACTS_FILE.exists() else ""
        if current != text:
            print(f"{TYPE_FACTS_FILE}: stale; run `python -m glu_catalogue.generate.type_facts`", file=sys.stderr)
            return 1
        print(f"{TYPE_FACTS_FILE}: current")
        return 0
    TYPE_FACTS_FILE.write_text(text, encoding="utf-8")
    document = json.loads(text)
    print(f"{TYPE_FACTS_FILE}: {len(document['types'])} types, {len(document['not_shipped'])} counted on the meta device")
    return 0


if __name__ == "__main__":
    sys.exit(main())
