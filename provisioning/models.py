"""Requests, results and records exchanged between provisioning, the CLI and the bot.

Every model forbids unknown fields, so a typo in a form or an option is an error rather than a
silently ignored value. Request fields left ``None`` mean "use the policy default"; the service
fills them in before planning, so a dry run shows the values that would really be used.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from difflib import get_close_matches
from typing import Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from provisioning.cloudinit import (
    ipconfig,
    validate_nameservers,
    validate_searchdomain,
    validate_ssh_keys,
    validate_user,
)
from provisioning.errors import ConfigError, InvalidRequest
from provisioning.rules import validate_dns_label
from provisioning.sizes import Size

__all__ = [
    "AuditRecord",
    "AuditResult",
    "Progress",
    "Size",
    "TemplateBuildRequest",
    "TemplateBuildResult",
    "TemplateInfo",
    "UpdateStatus",
    "VmCreateRequest",
    "VmCreateResult",
    "VmInfo",
    "VmPlan",
    "config_error_from",
    "invalid_request_from",
    "parse_request",
]

AuditResult = Literal["ok", "failed", "denied", "expired", "running"]
VMID = Field(ge=100, le=999_999_999, description="A Proxmox VMID (100-999999999).")


_T = TypeVar("_T")
_R = TypeVar("_R")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _as_value_error(check: Callable[[_T], _R], value: _T) -> _R:
    """Run a domain check inside a pydantic validator, which only reports ValueErrors."""
    try:
        return check(value)
    except InvalidRequest as exc:
        raise ValueError(exc.detail) from exc


def _check_dns_label(value: str | None) -> str | None:
    return None if value is None else _as_value_error(validate_dns_label, value)


class TemplateBuildRequest(_Model):
    """Build one template from a catalog distribution's upstream cloud image."""

    distribution: str = Field(min_length=1, description="Catalog key, e.g. rocky9.")
    node: str | None = Field(None, description="Target node; default: policy or the first node.")
    image_storage: str | None = Field(None, description="Storage with `import` content.")
    vm_storage: str | None = Field(None, description="Storage for the template's disks.")
    bridge: str | None = Field(None, description="Network bridge, e.g. vmbr0.")
    cores: int | None = Field(None, ge=1, le=512)
    memory: int | None = Field(None, ge=16, description="Memory in MiB.")
    disk: Size | None = Field(None, description="Template disk size; grown to it if smaller.")
    secure_boot: bool = Field(False, description="Pre-enrol Secure Boot keys in the EFI disk.")
    request_id: str | None = Field(None, description="Re-running with the same id is a no-op.")


class VmCreateRequest(_Model):
    """Create one VM by cloning a template, as `/solti vm create` and `solti vm create` ask."""

    template: int | str | None = Field(
        None, description="Template VMID, template name or distribution (in that priority)."
    )
    vmid: int | None = Field(None, ge=100, le=999_999_999, description="Explicit VMID.")
    name: str | None = Field(None, description="DNS label; default {distribution}-{YYMMDD}.")
    disk: Size | None = Field(None, description="Minimum boot disk size; never shrinks.")
    cores: int | None = Field(None, ge=1, le=512)
    memory: int | None = Field(None, ge=16, description="Memory in MiB.")
    full: bool = Field(False, description="Full clone instead of a linked clone.")
    node: str | None = None
    target_storage: str | None = Field(None, description="Storage for a full clone's disks.")
    user: str | None = Field(None, description="Cloud-init user; default: the image's user.")
    ssh_keys: list[str] = Field(default_factory=list, description="OpenSSH public keys.")
    ip: str | None = Field(None, description="IPv4 address in CIDR form; None means DHCP.")
    gw: str | None = Field(None, description="IPv4 gateway, required with a static ip.")
    nameserver: str | None = None
    searchdomain: str | None = None
    request_id: str | None = None
    keep_on_failure: bool = Field(False, description="Keep a half-made VM for debugging.")
    dry_run: bool = Field(False, description="Plan only; change nothing.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return _check_dns_label(value)

    @field_validator("template", mode="before")
    @classmethod
    def _template_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if value.isdigit():
                return int(value)
        return value

    @field_validator("ip")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() in ("", "dhcp"):
            return None
        return value.strip()

    @field_validator("ssh_keys")
    @classmethod
    def _keys(cls, value: list[str]) -> list[str]:
        return [key.line for key in _as_value_error(validate_ssh_keys, value)]

    @field_validator("nameserver")
    @classmethod
    def _nameserver(cls, value: str | None) -> str | None:
        return None if value is None else _as_value_error(validate_nameservers, value)

    @field_validator("searchdomain")
    @classmethod
    def _searchdomain(cls, value: str | None) -> str | None:
        return None if value is None else _as_value_error(validate_searchdomain, value)

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return None if value is None else _as_value_error(validate_user, value)

    @model_validator(mode="after")
    def _network(self) -> VmCreateRequest:
        try:
            config = ipconfig(self.ip, self.gw)
        except InvalidRequest as exc:
            raise ValueError(f"{exc.field}: {exc.detail}") from exc
        if self.ip is not None:  # normalised forms (10.0.0.5/24, gateway without spaces)
            self.ip, _, gateway = config.removeprefix("ip=").partition(",gw=")
            self.gw = gateway or None
        return self


class TemplateInfo(_Model):
    """A template as read back from PVE: config, tags and the metadata in its notes."""

    vmid: int
    name: str
    node: str
    distribution: str | None = None
    version: str | None = None
    checksum: str | None = None
    checksum_algorithm: str | None = None
    image_url: str | None = None
    image_file: str | None = None
    virtual_size: Size | None = None
    build_date: datetime | None = None
    builder: str | None = None
    tags: list[str] = Field(default_factory=list)
    disk_size: Size | None = None
    status: str | None = None


class VmInfo(_Model):
    """A VM with the provenance the audit log knows (owner, template it came from)."""

    vmid: int
    name: str
    node: str
    status: str
    template_vmid: int | None = None
    template_name: str | None = None
    template_version: str | None = None
    owner: str | None = None
    created_at: datetime | None = None
    cores: int | None = None
    memory: int | None = None
    disk_size: Size | None = None
    tags: list[str] = Field(default_factory=list)


class VmPlan(_Model):
    """Everything a create would do, decided before anything is changed (a dry run shows it)."""

    template: TemplateInfo
    node: str
    vmid: int
    name: str
    full: bool
    target_storage: str | None = None
    cores: int | None = None
    memory: int | None = None
    disk_before: Size | None = Field(None, description="The template's boot disk size.")
    disk_after: Size | None = Field(None, description="Size after the create.")
    resize: bool = False
    user: str
    ssh_key_fingerprints: list[str] = Field(default_factory=list)
    ipconfig: str = "ip=dhcp"
    nameserver: str | None = None
    searchdomain: str | None = None

    @property
    def template_version(self) -> str | None:
        return self.template.version


class VmCreateResult(_Model):
    """What a create made; ``reused`` is true when a request id matched an earlier create."""

    vm: VmInfo
    plan: VmPlan | None = None
    audit_id: int | None = None
    reused: bool = False
    duration_ms: int | None = None


class TemplateBuildResult(_Model):
    """What a build made; ``downloaded`` is false when the image was already in storage."""

    template: TemplateInfo
    downloaded: bool = True
    audit_id: int | None = None
    reused: bool = False
    duration_ms: int | None = None


class UpdateStatus(_Model):
    """Upstream image versus the latest template of one distribution."""

    distribution: str
    state: Literal["current", "update_available", "unknown"]
    template_vmid: int | None = None
    template_checksum: str | None = None
    upstream_checksum: str | None = None
    template_version: str | None = None
    upstream_version: str | None = None
    build_date: datetime | None = None
    reason: str | None = Field(None, description="Why the state is unknown, for people.")


class Progress(_Model):
    """One step of a long operation, for progress bars and Slack message updates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: str
    index: int = Field(ge=1)
    total: int = Field(ge=1)
    detail: str | None = None


class AuditRecord(_Model):
    """One audit log entry; ``model_dump()`` is exactly the contract (``id`` is excluded)."""

    id: int | None = Field(None, exclude=True)
    at: datetime
    actor: str
    via: str
    action: str
    vmid: int | None = None
    name: str | None = None
    node: str | None = None
    template_vmid: int | None = None
    template_name: str | None = None
    template_version: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    result: AuditResult
    error: str | None = None
    approver: str | None = None
    request_id: str | None = None
    duration_ms: int | None = None


# --- validation errors for people -------------------------------------------------------------

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
