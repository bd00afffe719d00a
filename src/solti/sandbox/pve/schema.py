"""Routing and request validation against the vendored PVE API schema.

Every request the simulator answers goes through ``Schema.resolve`` (unknown path or method ->
501, as ``rest_handler`` answers) and ``Schema.validate`` (400 with the per-parameter map, all
parameters checked before anything runs), so a request real Proxmox VE rejects is rejected here
with the same texts. The checks themselves live in ``propstring`` (PVE's JSONSchema.pm port).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from solti.sandbox.pve.api_errors import PveError, not_implemented, param_error
from solti.sandbox.pve.formats import PROPERTY_FORMATS
from solti.sandbox.pve.propstring import JsonBool, check_object, perl_str

DATA_FILE = Path(__file__).with_name("data") / "apidata-subset.json"

# Highest index of each collapsed family (qemu-server MAX_* constants; the schema says `[n]`).
FAMILY_MAX_INDEX: dict[str, int] = {
    "scsi": 30,
    "ide": 3,
    "sata": 5,
    "virtio": 15,
    "net": 31,
    "ipconfig": 31,
    "serial": 3,
    "parallel": 2,
    "usb": 13,
    "unused": 255,
    "hostpci": 15,
    "numa": 7,
    "virtiofs": 9,
}

# Enums PVE fills in at runtime; the api-viewer dump shows them as null.
RUNTIME_ENUMS: dict[tuple[str, str, str], list[str]] = {
    ("POST", "/nodes/{node}/storage/{storage}/download-url", "compression"): [
        "gz",
        "lzo",
        "zst",
        "bz2",
    ],
}

DUPLICATE_PARAM = "duplicate parameter (already defined in URI) with conflicting values!"
CONFIG_TEMPLATE = "/nodes/{node}/qemu/{vmid}/config"
_FAMILY_KEY = re.compile(r"^([a-z]+)(0|[1-9][0-9]*)\Z", re.ASCII)


@dataclass(frozen=True)
class Route:
    """A resolved request target: the schema path template, its path values, the method info."""

    method: str
    template: str
    path_params: dict[str, str]
    info: Mapping[str, Any] = field(repr=False)

    @property
    def properties(self) -> dict[str, dict[str, Any]]:
        return self.info.get("parameters", {}).get("properties", {})

    @property
    def allowtoken(self) -> bool:
        return bool(self.info.get("allowtoken", 1))


@dataclass(frozen=True)
class _Template:
    template: str
    regex: re.Pattern[str]
    methods: Mapping[str, Any]


def _group(name: str) -> str:
    """A regex group name for a path parameter (``pci-id-or-mapping`` has dashes)."""
    return name.replace("-", "__")


# Subclasses registered with ``fragmentDelimiter => ''``: below them the rest of the URI is one
# component, so a volume id keeps its slashes (pve-storage ``PVE/API2/Storage/Status.pm``:
# "volume IDs may contain a slash"; pve-common ``RESTHandler.pm`` ``map_path_to_methods``).
WHOLE_FRAGMENT_BELOW = ("/nodes/{node}/storage/{storage}/content/",)


def _compile_template(template: str) -> re.Pattern[str]:
    # RESTHandler matches each `{name}` path component with \S+ (components never hold '/'),
    # except the one component below a whole-fragment subclass, which takes the rest.
    whole = any(template.startswith(prefix) for prefix in WHOLE_FRAGMENT_BELOW)
    parts = []
    for component in template.strip("/").split("/"):
        name = re.fullmatch(r"\{([\w-]+)\}", component)
        if name is None:
            parts.append(re.escape(component))
            continue
        last = whole and component == template.rsplit("/", 1)[1]
        value = r"\S+" if last else r"[^/\s]+"
        parts.append(f"(?P<{_group(name[1])}>{value})")
    return re.compile("^/" + "/".join(parts) + r"\Z")


class Schema:
    """The vendored method schemas; build once with ``Schema.load()`` (cached)."""

    def __init__(self, document: Mapping[str, Any], *, strict: bool = True) -> None:
        endpoints: Mapping[str, Mapping[str, Any]] = document["endpoints"]
        self._templates = [
            _Template(path, _compile_template(path), methods) for path, methods in endpoints.items()
        ]
        # The full catalog has families (lxc ``mp[n]``, ``dev[n]``) the subset never serves.
        for template in self._templates if strict else []:
            for info in template.methods.values():
                for key in info.get("parameters", {}).get("properties", {}):
                    if key.endswith("[n]") and key[:-3] not in FAMILY_MAX_INDEX:
                        raise ValueError(f"no index range known for family {key}")

    @classmethod
    @cache
    def load(cls, path: Path = DATA_FILE) -> Schema:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    @cache
    def load_full(cls) -> Schema:
        """The whole PVE API (``catalog``), for the GET paths outside the modelled subset."""
        from solti.sandbox.pve import path_catalog

        return cls({"endpoints": path_catalog.endpoints()}, strict=False)

    @property
    def endpoints(self) -> dict[str, tuple[str, ...]]:
        """Every served path template with its methods."""
        return {t.template: tuple(sorted(t.methods)) for t in self._templates}

    def resolve(self, method: str, path: str) -> Route:
        """Map an unescaped API path (after ``/api2/json``) to its route, or raise 501."""
        method = method.upper()
        normalized = "/" + "/".join(part for part in path.split("/") if part)
        for template in self._templates:
            match = template.regex.match(normalized)
            if match is None:
                continue
            info = template.methods.get(method)
            if info is None:
                break
            values = {key.replace("__", "-"): value for key, value in match.groupdict().items()}
            return Route(method, template.template, values, info)
        raise not_implemented(method, path)

    def validate(
        self, route: Route, params: Mapping[str, Any], *, json_body: bool = False
    ) -> dict[str, Any]:
        """Check query/body params plus path params; return them coerced or raise PveError(400).

        Integers come back as ``int``, numbers as ``float``, booleans as ``0``/``1``, strings
        unchanged. With ``json_body`` JSON ``true``/``false`` count as booleans; in a form body
        a Python ``True`` is sent as ``'True'`` and rejected, as requests and PVE do.
        """
        values = {key: _normalize(value, json_body) for key, value in params.items()}
        for key in sorted(values):
            given = values[key]
            uri_value = route.path_params.get(key)
            if uri_value is not None and given is not None and perl_str(given) != uri_value:
                raise param_error({key: DUPLICATE_PARAM})
        values.update(route.path_params)
        properties = self._expand(route, values)
        errors: dict[str, str] = {}
        additional = route.info.get("parameters", {}).get("additionalProperties", 0)
        check_object("", properties, values, additional, errors)
        if errors:
            raise param_error(errors)
        return {
            key: _coerce(value, properties.get(key, {}).get("type"))
            for key, value in values.items()
            if value is not None
        }

    def _expand(self, route: Route, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Concrete properties for this request: plain keys plus the family members given."""
        declared = route.properties
        out = {key: schema for key, schema in declared.items() if not key.endswith("[n]")}
        for key in values:
            member = None if key in out else _family_schema(declared, key)
            if member is not None:
                out[key] = member
        for (method, template, name), enum in RUNTIME_ENUMS.items():
            if (method, template) == (route.method, route.template) and name in out:
                out[name] = {**out[name], "enum": enum}
        return out

    def config_schema(self, key: str) -> dict[str, Any] | None:
        """The schema of a VM config key (``scsi0``, ``net1``, ``memory``) from PUT config."""
        properties = self.resolve("PUT", "/nodes/n/qemu/100/config").properties
        if key in properties and not key.endswith("[n]"):
            return properties[key]
        return _family_schema(properties, key)

    def config_format(self, key: str) -> dict[str, Any] | None:
        """The property-string sub-schema of a config key, for ``parse_property_string``.

        ``scsi0``/``efidisk0``/``net0``/``vga``/``agent``/``memory`` come from the dump;
        ``ipconfig0``/``boot``/``cpu`` from ``formats.PROPERTY_FORMATS``. None when the key is
        not a property string (``serial0``, ``name``) or unknown.
        """
        schema = self.config_schema(key)
        fmt = schema.get("format") if schema else None
        if isinstance(fmt, dict):
            return fmt
        if isinstance(fmt, str):
            return PROPERTY_FORMATS.get(fmt)
        return None


def _family_schema(properties: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    """The ``name[n]`` schema covering ``key`` (``scsi7``), if the index is in range."""
    match = _FAMILY_KEY.match(key)
    if not match or f"{match[1]}[n]" not in properties:
        return None
    if int(match[2]) > FAMILY_MAX_INDEX[match[1]]:
        return None
    return properties[f"{match[1]}[n]"]


def _normalize(value: Any, json_body: bool) -> Any:
    if isinstance(value, bool):
        return JsonBool(value) if json_body else str(value)
    if json_body or value is None or isinstance(value, (list, dict, JsonBool)):
        return value
    return str(value)


def _coerce(value: Any, type_: str | None) -> Any:
    if type_ == "integer":
        return int(perl_str(value))
    if type_ == "number":
        return float(perl_str(value))
    if type_ == "boolean":
        return 1 if perl_str(value) == "1" else 0
    if isinstance(value, (list, dict)):
        return value
    return perl_str(value)


def get_schema() -> Schema:
    """The process-wide schema loaded from the vendored data file."""
    return Schema.load()


def resolve(method: str, path: str) -> Route:
    return get_schema().resolve(method, path)


def validate(route: Route, params: Mapping[str, Any], *, json_body: bool = False) -> dict[str, Any]:
    return get_schema().validate(route, params, json_body=json_body)


def drive_format(key: str) -> dict[str, Any] | None:
    """Shorthand for ``get_schema().config_format(key)``."""
    return get_schema().config_format(key)


__all__ = [
    "CONFIG_TEMPLATE",
    "PveError",
    "Route",
    "Schema",
    "drive_format",
    "get_schema",
    "resolve",
    "validate",
]
