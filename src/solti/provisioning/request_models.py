"""What callers ask for: a template build and a VM create, validated before anything runs.

Request fields left ``None`` mean "use the policy default"; the service fills them in before
planning, so a dry run shows the values that would really be used. Validators reuse the domain
checks (cloud-init, DNS labels) so a form, the CLI and the service agree on what is valid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ConfigDict, Field, field_validator, model_validator

from solti.provisioning.bounds import MAX_CORES, MAX_MEMORY
from solti.provisioning.cloudinit import (
    ipconfig,
    validate_nameservers,
    validate_searchdomain,
    validate_ssh_keys,
    validate_user,
)
from solti.provisioning.durations import parse_duration
from solti.provisioning.errors import InvalidRequest
from solti.provisioning.rules import validate_dns_label
from solti.provisioning.sizes import Size
from solti.provisioning.strict_models import StrictModel

__all__ = ["TemplateBuildRequest", "VmCreateRequest"]

_T = TypeVar("_T")
_R = TypeVar("_R")


def _as_value_error(check: Callable[[_T], _R], value: _T) -> _R:
    """Run a domain check inside a pydantic validator, which only reports ValueErrors."""
    try:
        return check(value)
    except InvalidRequest as exc:
        raise ValueError(exc.detail) from exc


def _check_dns_label(value: str | None) -> str | None:
    return None if value is None else _as_value_error(validate_dns_label, value)


class TemplateBuildRequest(StrictModel):
    """Build one template from a catalog distribution's upstream cloud image."""

    model_config = ConfigDict(defer_build=True)  # built on first use: not on the create path

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


class VmCreateRequest(StrictModel):
    """Create one VM by cloning a template, as `/solti vm create` and `solti vm create` ask."""

    template: int | str | None = Field(
        None, description="Template VMID, template name or distribution (in that priority)."
    )
    vmid: int | None = Field(None, ge=100, le=999_999_999, description="Explicit VMID.")
    name: str | None = Field(None, description="DNS label; default {distribution}-{YYMMDD}.")
    disk: Size | None = Field(None, description="Minimum boot disk size; never shrinks.")
    cores: int | None = Field(None, ge=1, le=MAX_CORES)
    memory: int | None = Field(None, ge=16, le=MAX_MEMORY, description="Memory in MiB.")
    size: str | None = Field(
        None, max_length=64, description="Flavor name (policy `flavors`); flags given win."
    )
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
    lease: str | None = Field(
        None, description="How long the VM may live (30m, 12h, 7d, 2w) or none; see leases."
    )

    @field_validator("lease")
    @classmethod
    def _lease(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        text = value.strip().lower()
        if text != "none":
            parse_duration(text)  # the ValueError names the accepted forms
        return text

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
