"""Writing safetensors checkpoints without torch, for tests: headers exact, data zero (sparse files).

A checkpoint of the full Llama-3.2-1B architecture written this way takes a few kilobytes of
disk: the data section is a hole the file system fills with zeros. ``test_checkpoints`` checks
that ``llama_tensors`` names and shapes the tensors as transformers saves them.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from glu_catalogue.checkpoints.safetensors import tensor_bytes
from glu_catalogue.core.architecture import Architecture

TensorSpec = tuple[str, Sequence[int]]  # (dtype, shape)


#: A small Llama-like architecture whose checkpoint takes a few kilobytes (the special-file and hostile-input tests).
SMALL = Architecture(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    vocab_size=100,
    tie_word_embeddings=True,
    qkv_bias=False,
    o_proj_bias=False,
    mlp_bias=False,
    qk_norm=False,
    norms_per_layer=2,
)


def llama_tensors(shape: Architecture, widths: Sequence[int] | None = None, dtype: str = "BF16") -> dict[str, TensorSpec]:
    """Tensor names and shapes ``LlamaForCausalLM.save_pretrained`` writes for ``shape``.

    ``widths`` gives each layer's MLP width (default: the shape's). A tied LM head is not saved.
    """
    widths = list(widths) if widths is not None else [shape.intermediate_size] * shape.num_hidden_layers
    hidden = shape.hidden_size
    q_rows = shape.num_attention_heads * shape.head_dim
    kv_rows = shape.num_key_value_heads * shape.head_dim
    tensors: dict[str, TensorSpec] = {"model.embed_tokens.weight": (dtype, [shape.vocab_size, hidden])}
    for index, width in enumerate(widths):
        layer = f"model.layers.{index}."
        tensors.update(
            {
                layer + "input_layernorm.weight": (dtype, [hidden]),
                layer + "post_attention_layernorm.weight": (dtype, [hidden]),
                layer + "mlp.gate_proj.weight": (dtype, [width, hidden]),
                layer + "mlp.up_proj.weight": (dtype, [width, hidden]),
                layer + "mlp.down_proj.weight": (dtype, [hidden, width]),
                layer + "self_attn.q_proj.weight": (dtype, [q_rows, hidden]),
                layer + "self_attn.k_proj.weight": (dtype, [kv_rows, hidden]),
                layer + "self_attn.v_proj.weight": (dtype, [kv_rows, hidden]),
                layer + "self_attn.o_proj.weight": (dtype, [hidden, q_rows]),
            }
        )
        if shape.qkv_bias:
            tensors[layer + "self_attn.q_proj.bias"] = (dtype, [q_rows])
            tensors[layer + "self_attn.k_proj.bias"] = (dtype, [kv_rows])
            tensors[layer + "self_attn.v_proj.bias"] = (dtype, [kv_rows])
        if shape.o_proj_bias:
            tensors[layer + "self_attn.o_proj.bias"] = (dtype, [hidden])
        if shape.mlp_bias:
            tensors[layer + "mlp.gate_proj.bias"] = (dtype, [width])
            tensors[layer + "mlp.up_proj.bias"] = (dtype, [width])
            tensors[layer + "mlp.down_proj.bias"] = (dtype, [hidden])
    tensors["model.norm.weight"] = (dtype, [hidden])
    if not shape.tie_word_embeddings:
        tensors["lm_head.weight"] = (dtype, [shape.vocab_size, hidden])
    return dict(sorted(tensors.items()))


def header_bytes(tensors: dict[str, TensorSpec], metadata: dict[str, str] | None = None) -> tuple[bytes, int]:
    """The JSON header of ``tensors`` laid out one after another, and the data bytes they need."""
    document: dict[str, Any] = {"__metadata__": metadata if metadata is not None else {"format": "pt"}}
    offset = 0
    for name, (dtype, dims) in tensors.items():
        size = tensor_bytes(dtype, tuple(dims))
        document[name] = {"dtype": dtype, "shape": list(dims), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(document, separators=(",", ":")).encode()
    return raw + b" " * (-len(raw) % 8), offset


def write_safetensors(path: Path, tensors: dict[str, TensorSpec]) -> None:
    """A valid safetensors file of ``tensors`` whose data are zeros (a sparse file)."""
    raw, data_bytes = header_bytes(tensors)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(raw)))
        handle.write(raw)
        handle.truncate(8 + len(raw) + data_bytes)


def llama_config(shape: Architecture) -> dict[str, Any]:
    """The config.json transformers writes for a LlamaForCausalLM of ``shape`` (the fields that matter)."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": shape.hidden_size,
        "intermediate_size": shape.intermediate_size,
        "num_hidden_layers": shape.num_hidden_layers,
        "num_attention_heads": shape.num_attention_heads,
        "num_key_value_heads": shape.num_key_value_heads,
        "head_dim": shape.head_dim,
        "vocab_size": shape.vocab_size,
        "tie_word_embeddings": shape.tie_word_embeddings,
        "attention_bias": shape.qkv_bias,
        "mlp_bias": shape.mlp_bias,
    }


def write_checkpoint(directory: Path, config: dict[str, Any], tensors: dict[str, TensorSpec], n_shards: int = 1, index: bool = True) -> list[Path]:
    """config.json and ``tensors`` split over ``n_shards`` files (with the index when sharded and ``index``)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    names = list(tensors)
    if n_shards == 1:
        path = directory / "model.safetensors"
        write_safetensors(path, tensors)
        return [path]
    step = -(-len(names) // n_shards)
    paths, weight_map = [], {}
    for number in range(n_shards):
        path = directory / f"model-{number + 1:05d}-of-{n_shards:05d}.safetensors"
        part = {name: tensors[name] for name in names[number * step : (number + 1) * step]}
        write_safetensors(path, part)
        weight_map.update({name: path.name for name in part})
        paths.append(path)
    if index:
        document = {"metadata": {}, "weight_map": weight_map}
        (directory / "model.safetensors.index.json").write_text(json.dumps(document, indent=2) + "\n")
    return paths


def read_tensors(path: Path) -> dict[str, TensorSpec]:
    """The (dtype, shape) of every tensor in a safetensors file, in header order."""
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        document = json.loads(handle.read(length))
    document.pop("__metadata__", None)
    return {name: (value["dtype"], value["shape"]) for name, value in document.items()}
