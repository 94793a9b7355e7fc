"""A few hundred repositories the fake Hub lists as derived from Llama-3.2-1B, of every kind a scan meets.

Each is served shaped (``fake_hub.ShapedFile``: real config.json and safetensors headers, the weights
only a length), so hundreds of gigabyte-sized checkpoints cost nothing until someone reads a weight.
``populate`` returns each repository's expected kind, what ``catalogue hub scan`` must say of it.
"""

from __future__ import annotations

import json
import struct

from fake_hub import FakeHub, ShapedFile
from safetensors_files import header_bytes, llama_config, llama_tensors

from glu_catalogue.core import formulas
from glu_catalogue.store.registry import get_model

BASE = "meta-llama/Llama-3.2-1B"
LLAMA_1B = get_model(BASE).architecture

#: The catalogue levels the good repositories are pruned at (each matches the record of that level).
LEVELS = (0, 10, 20, 30, 40, 50, 60)


def shaped_checkpoint(widths: list[int]) -> dict[str, bytes | ShapedFile]:
    """config.json (the first layer's width, as a non-uniform checkpoint's config often says) and one shaped safetensors file."""
    shape = LLAMA_1B.model_copy(update={"intermediate_size": widths[0]})
    header, data = header_bytes(llama_tensors(shape, widths))
    return {
        "config.json": json.dumps(llama_config(shape)).encode(),
        "model.safetensors": ShapedFile(struct.pack("<Q", len(header)) + header, 8 + len(header) + data),
    }


def populate(
    hub: FakeHub, n_good: int = 210, n_non_uniform: int = 40, n_not_glu: int = 20, n_gated: int = 15, n_no_headers: int = 15, n_slow: int = 3
) -> dict[str, str]:
    """Add the derived repositories to ``hub``; repo id -> the kind a scan must find (``uniform``, ``non-uniform``, ...)."""
    expected: dict[str, str] = {}
    layers = LLAMA_1B.num_hidden_layers
    full = LLAMA_1B.intermediate_size
    for index in range(n_good):
        level = LEVELS[index % len(LEVELS)]
        hub.add(f"good/llama-1b-pruned-{index:03d}", shaped_checkpoint([formulas.kept_neurons(full, level)] * layers), base_model=BASE)
        expected[f"good/llama-1b-pruned-{index:03d}"] = "uniform"
    for index in range(n_non_uniform):  # wider first layers, narrower late ones (a "layer-wise" pruning)
        widths = [full - 256 * ((layer + index) % 8) for layer in range(layers)]
        hub.add(f"varied/llama-1b-{index:03d}", shaped_checkpoint(widths), base_model=BASE)
        expected[f"varied/llama-1b-{index:03d}"] = "non-uniform"
    gpt2 = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 100}
    tensors = {
        f"transformer.h.{layer}.mlp.{name}.weight": ("F32", [64, 256] if name == "c_fc" else [256, 64]) for layer in range(2) for name in ("c_fc", "c_proj")
    }
    header, data = header_bytes(tensors)
    for index in range(n_not_glu):
        files = {"config.json": json.dumps(gpt2).encode(), "model.safetensors": ShapedFile(struct.pack("<Q", len(header)) + header, 8 + len(header) + data)}
        hub.add(f"other/not-glu-{index:03d}", files, base_model=BASE)
        expected[f"other/not-glu-{index:03d}"] = "not-glu"
    for index in range(n_gated):
        hub.add(f"gated/llama-1b-{index:03d}", shaped_checkpoint([4916] * layers), gated=True, base_model=BASE)
        expected[f"gated/llama-1b-{index:03d}"] = "gated"
    for index in range(n_no_headers):
        files = {"config.json": json.dumps(llama_config(LLAMA_1B)).encode(), "pytorch_model.bin": b"\0" * 64}
        hub.add(f"old/llama-1b-bin-{index:03d}", files, base_model=BASE)
        expected[f"old/llama-1b-bin-{index:03d}"] = "no-safetensors-headers"
    for index in range(n_slow):
        hub.add(f"slow/llama-1b-{index:03d}", shaped_checkpoint([4916] * layers), base_model=BASE)
        hub.drip[f"slow/llama-1b-{index:03d}"] = 0.5
        expected[f"slow/llama-1b-{index:03d}"] = "too-slow"
    hub.add("unrelated/model", shaped_checkpoint([4916] * layers))  # not derived: never listed
    return expected
