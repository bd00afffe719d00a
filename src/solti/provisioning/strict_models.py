"""How our pydantic models are built, and how their validation errors read to people.

Every model forbids unknown fields (``StrictModel``), so a typo in a form or an option is an
error rather than a silently ignored value. pydantic's own messages name internals; the
functions here turn them into one ``InvalidRequest`` / ``ConfigError`` that names the field,
what was wrong and what is allowed. Pure: no model of ours is imported here.
"""

from __future__ import annotations

from difflib import get_close_matches
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from solti.provisioning.errors import ConfigError, InvalidRequest

__all__ = [
    "StrictModel",
    "coerce_request",
    "config_error_from",
    "invalid_request_from",
    "parse_request",
]


class StrictModel(BaseModel):
    """Base of every request and result: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid")


_M = TypeVar("_M", bound=BaseModel)


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _model_at(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class that holds the last part of ``loc`` (for "allowed keys" hints)."""
    for part in loc[:-1]:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        candidates = [model.model_fields[part].annotation]
        found: type[BaseModel] | None = None
        while candidates:
            kind = candidates.pop()
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found = kind
                break
            candidates.extend(get_args(kind))
        if found is None:
            return None
        model = found
    return model


def _describe(error: Any, model: type[BaseModel] | None) -> str:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        owner = _model_at(model, tuple(error["loc"]))
        if owner is None:
            return "unknown key"
        allowed = sorted(owner.model_fields)
        close = get_close_matches(str(error["loc"][-1]), allowed, n=1)
        if close:
            return f"unknown key (did you mean {close[0]}?)"
        return f"unknown key; allowed: {', '.join(allowed)}"
    if kind == "missing":
        return "is required"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number, got {value!r}"
    if kind in ("bool_parsing", "bool_type"):
        return f"{value!r} is not true or false"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {"greater_than_equal": ">=", "greater_than": ">"}.get(kind)
        bound = ctx.get("ge", ctx.get("gt")) if sign else ctx.get("le", ctx.get("lt"))
        sign = sign or {"less_than_equal": "<=", "less_than": "<"}[kind]
        return f"must be {sign} {bound}, got {value!r}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind in ("string_type", "list_type", "dict_type", "model_type"):
        wanted = {"string_type": "a text", "list_type": "a list"}.get(kind, "a mapping")
        return f"must be {wanted}, got {value!r}"
    if kind == "literal_error":
        return f"{value!r} is not allowed; use one of {ctx.get('expected')}"
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _messages(
    exc: ValidationError, model: type[BaseModel] | None, prefix: str
) -> tuple[list[str], str | None]:
    parts: list[str] = []
    first: str | None = None
    for error in exc.errors():
        field = _location(tuple(error["loc"]))
        text = _describe(error, model)
        if not field and ": " in text:  # model validators name their field in the text
            field, _, text = text.partition(": ")
        if prefix:
            field = f"{prefix}.{field}" if field else prefix
        first = first or field or None
        parts.append(f"{field}: {text}" if field else text)
    return parts, first


def invalid_request_from(
    exc: ValidationError, model: type[BaseModel] | None = None
) -> InvalidRequest:
    """Turn a pydantic error into one ``InvalidRequest`` naming the field and what is allowed."""
    parts, first = _messages(exc, model, "")
    error = InvalidRequest("; ".join(parts))
    error.field = first  # the message already names every field
    return error


def config_error_from(
    exc: ValidationError, model: type[BaseModel] | None = None, prefix: str = ""
) -> ConfigError:
    """The same for configuration: ``ConfigError`` whose ``key`` is the first key path."""
    parts, first = _messages(exc, model, prefix)
    error = ConfigError("; ".join(parts))
    error.key = first
    return error


def parse_request(model: type[_M], data: Any) -> _M:
    """Validate ``data`` into ``model``, raising ``InvalidRequest`` instead of pydantic's error."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_request_from(exc, model) from None


def coerce_request(model: type[Any], value: Any, **overrides: Any) -> Any:
    """Accept a model, or a mapping (forms, JSON) validated into one (``parse_request``)."""
    if isinstance(value, model):
        return value.model_copy(update=overrides) if overrides else value
    data = dict(value or {})
    data.update({k: v for k, v in overrides.items() if v is not None})
    return parse_request(model, data)
