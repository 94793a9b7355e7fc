"""Building a transformers model on the meta device: the config, the model (shapes, no weights), quietly.

``build_on_meta`` allocates no memory for weights, so a 70B config costs what its module objects
cost. Errors become ``ArchitectureError`` (one line: what transformers refused and why).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from ..errors import ArchitectureError


def build_config(values: Mapping[str, Any]):
    """The transformers config of config.json ``values``; ``ArchitectureError`` when transformers refuses it."""
    from transformers import AutoConfig

    values = dict(values)
    model_type = values.pop("model_type", None)
    if not model_type:
        raise ArchitectureError("config.json has no model_type: transformers cannot tell which model it describes")
    try:
        return AutoConfig.for_model(model_type, **values)
    except ValueError as error:
        if "Unrecognized model" in str(error) or model_type in str(error) and "not recognized" in str(error):
            raise ArchitectureError(f"model_type {model_type!r} is unknown to transformers {transformers_version()}") from None
        raise ArchitectureError(f"transformers {transformers_version()} refuses this {model_type} config: {first_line(error)}") from None
    except Exception as error:
        raise ArchitectureError(f"transformers {transformers_version()} refuses this {model_type} config: {first_line(error)}") from None


def build_on_meta(config) -> nn.Module:
    """``AutoModelForCausalLM.from_config(config)`` on the meta device, without initialising weights."""
    from transformers import AutoModelForCausalLM

    try:
        from transformers.initialization import no_init_weights
    except ImportError:  # transformers 4
        from transformers.modeling_utils import no_init_weights
    try:
        with no_init_weights(), torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
        model.tie_weights()  # as loading does; without initialisation nothing has tied them yet
        return model
    except Exception as error:
        name = getattr(config, "model_type", "?")
        raise ArchitectureError(f"transformers {transformers_version()} cannot build a causal LM from this {name} config: {first_line(error)}") from None


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """transformers' warnings about a config (token ids outside a tiny vocabulary, ...) off while facts are read."""
    from transformers.utils import logging as transformers_logging

    level = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        transformers_logging.set_verbosity(level)


def count_parameters(model: nn.Module) -> int:
    """``sum(p.numel() for p in model.parameters())``: shared (tied) tensors once."""
    return sum(parameter.numel() for parameter in model.parameters())


def transformers_version() -> str:
    """The installed transformers' version."""
    import transformers

    return transformers.__version__


def first_line(error: BaseException) -> str:
    """An exception's message on one line, cut at 300 characters."""
    text = " ".join(str(error).split())
    return (text[:300] + "...") if len(text) > 300 else text or type(error).__name__
