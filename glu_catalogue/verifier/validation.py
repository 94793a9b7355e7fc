"""Validating many records fast: the records' own schema, applied to plain dicts.

Building a Pydantic model instance costs several times what checking its fields does. The
verifier needs the verdict, not the instances, so ``dict_adapter(Model)`` validates against a
TypedDict generated from ``Model``'s fields -- the same types, constraints and config, so the
same errors with the same paths -- and returns dicts. Model validators do not carry over;
callers apply them (``records.status_problem``).
"""

from __future__ import annotations

import types
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter
from typing_extensions import NotRequired, TypedDict


@cache
def typed_dict_of(model: type[BaseModel]) -> Any:
    """A TypedDict with ``model``'s fields (nested models converted too) and its config."""
    annotations: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        annotation = _convert(field.annotation)
        if field.metadata:
            annotation = Annotated[(annotation, *field.metadata)]
        annotations[name] = annotation if field.is_required() else NotRequired[annotation]
    typed_dict = TypedDict(f"{model.__name__}Dict", annotations)  # type: ignore[misc]
    typed_dict.__pydantic_config__ = {key: model.model_config[key] for key in ("strict", "extra", "allow_inf_nan") if key in model.model_config}
    return typed_dict


def _convert(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return typed_dict_of(annotation)
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return Union[tuple(_convert(argument) for argument in get_args(annotation))]  # noqa: UP007 - a union of types known only at run time
    if origin is list:
        return list[_convert(get_args(annotation)[0])]
    return annotation


@cache
def list_adapter(model: type[BaseModel]) -> TypeAdapter:
    """Validates a list of ``model``-shaped dicts; errors are located as ``(index, field, ...)``."""
    return TypeAdapter(list[typed_dict_of(model)])
