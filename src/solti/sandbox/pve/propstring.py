"""PVE's JSON-schema checker and property-string parser (pve-common JSONSchema.pm).

The two live together because they recurse into each other: a property string is parsed into
a dict and then checked with the same ``check_object`` that checks a request, and any string
with a ``format`` is checked through ``check_format``, which may parse a property string.
Error texts, their order of precedence and the ``path.key`` naming are PVE's, since clients and
tests compare them verbatim.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from solti.sandbox.pve.formats import FormatError, lookup, split_format_name, split_list

Errors = dict[str, str]

_INTEGER = re.compile(r"^[+-]?\d+\Z", re.ASCII)
_NUMBER = re.compile(r"^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?\Z", re.ASCII)
_TRUE = re.compile(r"^(1|on|yes|true)\Z", re.IGNORECASE)
_FALSE = re.compile(r"^(0|off|no|false)\Z", re.IGNORECASE)


class JsonBool(int):
    """A JSON ``true``/``false`` from a JSON body: Perl sees a JSON::PP::Boolean reference."""

    def __str__(self) -> str:
        return "1" if self else "0"

    def __repr__(self) -> str:
        return f"JsonBool({int(self)})"


def add_error(errors: Errors, path: str, message: str) -> None:
    """Record an error; a second one for the same path is joined with a literal backslash-n."""
    path = path or "_root"
    errors[path] = errors[path] + "\\n" + message if path in errors else message


def perl_str(value: Any) -> str:
    """How Perl would interpolate a scalar (numbers from schema or JSON bodies)."""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    return str(value)


def is_number(value: str) -> bool:
    return bool(_NUMBER.match(value))


def parse_boolean(value: str) -> int | None:
    """Booleans inside property strings: 1|on|yes|true and 0|off|no|false, any case."""
    if _TRUE.match(value):
        return 1
    if _FALSE.match(value):
        return 0
    return None


def _ref_type(value: Any) -> str | None:
    """The Perl ref() of a decoded JSON value, or None for a plain scalar."""
    if isinstance(value, JsonBool):
        return "JSON::PP::Boolean"
    if isinstance(value, list):
        return "ARRAY"
    if isinstance(value, dict):
        return "HASH"
    return None


def check_type(path: str, type_: str | None, value: Any, errors: Errors) -> bool:
    if not type_ or type_ == "any":
        return True
    ref = _ref_type(value)
    if type_ in ("array", "object"):
        if ref != {"array": "ARRAY", "object": "HASH"}[type_]:
            add_error(errors, path, f"type check ('{type_}') failed")
            return False
        return True
    if ref:
        if type_ == "boolean" and ref == "JSON::PP::Boolean":
            return True
        add_error(errors, path, f"type check ('{type_}') failed - got {ref}")
        return False
    text = perl_str(value)
    ok = {
        "boolean": text in ("0", "1"),
        "integer": bool(_INTEGER.match(text)),
        "number": is_number(text),
    }.get(type_, True)
    if not ok:
        add_error(errors, path, f"type check ('{type_}') failed - got '{text}'")
    return ok


@cache
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Perl ``m/^$pattern$/``: interpolated unbracketed; qr// stringifications made Python."""
    python = pattern.replace("(?^:", "(?:").replace("(?^i:", "(?i:")
    return re.compile("^" + python + "$")


def check_prop(value: Any, schema: dict[str, Any], path: str, errors: Errors) -> None:
    """Check one value against one schema, stopping at the first failure like PVE does."""
    if value is None:
        if not (schema.get("optional") or schema.get("alias") or schema.get("type") == "null"):
            add_error(errors, path, "property is missing and it is not optional")
        return
    if not check_type(path, schema.get("type"), value, errors):
        return
    if _ref_type(value) in ("ARRAY", "HASH"):
        if isinstance(value, dict) and (
            "properties" in schema or schema.get("additionalProperties")
        ):
            check_object(path, schema.get("properties", {}), value, 0, errors)
        return
    text = perl_str(value)
    fmt = schema.get("format")
    if fmt:
        try:
            check_format(fmt, text, path)
        except FormatError as err:
            add_error(errors, path, f"invalid format - {err}")
            return
    pattern = schema.get("pattern")
    if pattern and not compile_pattern(pattern).search(text):
        add_error(errors, path, "value does not match the regex pattern")
        return
    if schema.get("maxLength") is not None and len(text) > schema["maxLength"]:
        add_error(
            errors, path, f"value may only be {perl_str(schema['maxLength'])} characters long"
        )
        return
    if schema.get("minLength") is not None and len(text) < schema["minLength"]:
        msg = f"value must be at least {perl_str(schema['minLength'])} characters long"
        add_error(errors, path, msg)
        return
    if is_number(text):
        number = float(text)
        if schema.get("maximum") is not None and number > float(schema["maximum"]):
            add_error(
                errors, path, f"value must have a maximum value of {perl_str(schema['maximum'])}"
            )
            return
        if schema.get("minimum") is not None and number < float(schema["minimum"]):
            add_error(
                errors, path, f"value must have a minimum value of {perl_str(schema['minimum'])}"
            )
            return
    enum = schema.get("enum")
    if enum and text not in [perl_str(item) for item in enum]:
        allowed = ", ".join(perl_str(item) for item in enum)
        add_error(
            errors, path, f"value '{text}' does not have a value in the enumeration '{allowed}'"
        )


def check_object(
    path: str,
    properties: dict[str, dict[str, Any]],
    value: dict[str, Any],
    additional_properties: Any,
    errors: Errors,
) -> None:
    """Every schema key, then every given key (``requires``, unknown keys), as check_object."""
    for key, schema in properties.items():
        check_prop(value.get(key), schema, f"{path}.{key}" if path else key, errors)
    for key in value:
        new_path = f"{path}.{key}" if path else key
        schema = properties.get(key)
        if schema is not None:
            requires = schema.get("requires")
            if isinstance(requires, dict):
                check_prop(value, requires, path, errors)
            elif requires and value.get(requires) is None:
                target = f"{path}.{requires}" if path else requires
                add_error(errors, target, f"missing property - '{new_path}' requires this property")
            continue
        if not additional_properties:
            add_error(
                errors,
                new_path,
                "property is not defined in schema and the schema does not allow additional "
                "properties",
            )


def check_format(fmt: str | dict[str, Any], value: str, path: str = "") -> Any:
    """Validate ``value`` against a named or inline format; raise FormatError with PVE's text."""
    if isinstance(fmt, dict):
        return parse_property_string(fmt, value, path)
    if fmt == "regex":
        return None
    name, kind = split_format_name(fmt)
    registered = lookup(name)
    if registered is None:
        return None  # unknown named format: accepted (see formats.PERMISSIVE_FORMATS)
    if kind != "none" and isinstance(registered, dict):
        raise FormatError(f"'-{kind}' format must have code ref, not hash\n")
    if isinstance(registered, dict):
        return parse_property_string(registered, value, path)
    if kind == "list":
        for item in split_list(value):
            registered(item)
        return None
    if kind == "opt" and not value:
        return None
    registered(value)
    return None


def _perl_false(value: Any) -> bool:
    return value is None or value in ("", "0", 0)


def _resolve_format(fmt: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(fmt, dict):
        return fmt
    registered = lookup(fmt)
    if not isinstance(registered, dict):
        raise FormatError(f"unknown format: {fmt}\n")
    return registered


def parse_property_string(fmt: str | dict[str, Any], data: str, path: str = "") -> dict[str, Any]:
    """Parse ``key=value,...`` into a dict and check it; raise FormatError with PVE's text.

    Booleans become 0/1, aliases and ``keyAlias`` (``virtio=MAC`` -> model + macaddr) resolve,
    the bare first value goes to the ``default_key``. On check failures the message is
    ``format error\\n`` followed by one ``<path>.<key>: <msg>`` line per error.
    """
    schema_map = _resolve_format(fmt)
    result: dict[str, Any] = {}
    default_key: str | None = None
    for part in data.split(","):
        if re.match(r"^\s*\Z", part):
            continue
        keyed = re.match(r"^([^=]+)=(.+)\Z", part)
        if keyed:
            key, val = keyed[1], keyed[2]
            if result.get(key) is not None:
                raise FormatError(f"duplicate key in comma-separated list property: {key}\n")
            schema = schema_map.get(key)
            if schema and schema.get("alias"):
                key_alias = schema.get("keyAlias")
                if key_alias:
                    if result.get(key_alias) is not None:
                        raise FormatError(f"key alias '{key_alias}' is already defined\n")
                    result[key_alias] = key
                key = schema["alias"]
                schema = schema_map.get(key)
            if not schema:
                raise FormatError(f"invalid key in comma-separated list property: {key}\n")
            if schema.get("type") == "boolean":
                parsed = parse_boolean(val)
                result[key] = val if parsed is None else parsed
            else:
                result[key] = val
        elif "=" not in part:
            if default_key:
                raise FormatError(
                    f"duplicate key in comma-separated list property: {default_key}\n"
                )
            for key, schema in schema_map.items():
                if schema.get("default_key"):
                    default_key = key
                    if not _perl_false(result.get(key)):
                        raise FormatError(
                            f"duplicate key in comma-separated list property: {key}\n"
                        )
                    result[key] = part
                    break
            if not default_key:
                raise FormatError("value without key, but schema does not define a default key\n")
        else:
            raise FormatError("missing key in comma-separated list property\n")
    errors: Errors = {}
    check_object(path, schema_map, result, 0, errors)
    if errors:
        lines = "".join(f"{key}: {errors[key]}\n" for key in sorted(errors))
        raise FormatError("format error\n" + lines)
    return result


def format_size(size: int) -> str:
    """Largest exact binary unit, as PVE prints sizes (``4M``, ``528K``, ``32G``)."""
    size = int(size)
    for unit in ("", "K", "M", "G"):
        if size % 1024:
            return f"{size}{unit}"
        size //= 1024
    return f"{size}T"


def print_property_string(values: dict[str, Any], fmt: str | dict[str, Any]) -> str:
    """Render a parsed dict back as PVE stores it (JSONSchema.pm ``print_property_string``).

    The default key goes first and bare, ``keyAlias`` pairs print combined (``virtio=MAC``),
    then required keys, then the rest, each sorted; ``disk-size`` values as ``format_size``.
    """
    schema_map = _resolve_format(fmt)
    default_key = next((k for k, s in schema_map.items() if s.get("default_key")), None)
    key_aliases = {
        s["keyAlias"]: s["alias"]
        for s in schema_map.values()
        if s.get("keyAlias") and s.get("alias")
    }
    parts: list[str] = []
    done: set[str] = set()

    def render(key: str, value: Any, key_fmt: Any) -> str:
        if key_fmt == "disk-size":
            return format_size(int(value)) if isinstance(value, int) else perl_str(value)
        text = perl_str(value)
        if "," in text:
            raise FormatError(f"illegal value with commas for {key}\n")
        return text

    def add(key: str, *, is_default: bool = False) -> None:
        if key in done:
            return
        done.add(key)
        value = values.get(key)
        if value is None:
            return
        schema = schema_map.get(key)
        combine = key_aliases.get(key)
        if combine and values.get(combine) is not None:
            combined = render(combine, values[combine], schema_map[combine].get("format"))
            parts.append(f"{render(key, value, (schema or {}).get('format'))}={combined}")
            done.add(combine)
            return
        if schema and schema.get("alias"):
            schema = schema_map.get(schema["alias"])
        if not schema:
            raise FormatError(f"invalid key '{key}'\n")
        text = render(key, value, schema.get("format"))
        parts.append(text if is_default else f"{key}={text}")

    if default_key:
        add(default_key, is_default=True)
    for key in sorted(values):
        if key in schema_map and not schema_map[key].get("optional"):
            add(key)
    for key in sorted(values):
        add(key)
    return ",".join(parts)
