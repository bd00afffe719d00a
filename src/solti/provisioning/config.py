"""Configuration: the Proxmox connection from the environment, the policy from YAML.

Both fail at start-up, never half-way through a create: every unknown key and bad value raises
``ConfigError`` naming the key (``PROXMOX_URL``, ``quotas.max_vms_per_user``). The connection
settings come through pydantic-settings sources (environment, ``SOLTI_ENV_FILE``, secrets
directory; see ``settings_sources``). The models are kept
introspectable (types, defaults, descriptions) so the configuration reference can be generated.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from solti.provisioning.approval_rules import VmCreateApprovalRules
from solti.provisioning.catalog import Catalog, DistributionOverride
from solti.provisioning.cluster_policy import ClusterEntry, check_clusters
from solti.provisioning.defaults_policy import Defaults
from solti.provisioning.errors import ConfigError
from solti.provisioning.fleet_policy import Flavor, Fleet, Limits, PlacementPolicy, Quotas
from solti.provisioning.lease_policy import LeasePolicy
from solti.provisioning.models import config_error_from
from solti.provisioning.proxmox_connection import ProxmoxConnection
from solti.provisioning.snapshots_policy import SnapshotPolicy
from solti.provisioning.yaml_guard import parse_guarded_yaml

__all__ = [
    "Approvals",
    "CliPolicy",
    "Policy",
    "ProxmoxConnection",
    "ProxmoxSettings",
    "Quotas",
    "Recovery",
    "Reports",
    "check_database_path",
    "load_policy",
    "proxmox_from_env",
]

_PERSON = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _ids(values: list[str], pattern: re.Pattern[str], what: str) -> list[str]:
    for value in values:
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not a {what}")
    return values


def parse_duration(value: Any) -> timedelta:
    """``90s``, ``30m``, ``2h``, ``1d``; a bare number means minutes."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(str(value).strip().lower()) if not isinstance(value, bool) else None
    if not match:
        raise ValueError(f"{value!r} is not a duration; use e.g. 90s, 30m, 2h or 1d")
    number, unit = float(match.group(1)), match.group(2) or "m"
    seconds = number * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return timedelta(seconds=seconds)


class Approvals(_Section):
    expire_after: timedelta = Field(
        timedelta(hours=24), description="Pending approvals expire after this (e.g. 30m, 24h)."
    )
    vm_create: VmCreateApprovalRules | None = Field(
        None,
        description="A create over any of these thresholds waits for an approver "
        "(cores_over, memory_over, disk_over, full_clone, lease_over); unset: never.",
    )
    required: int = Field(
        1, ge=1, le=10, strict=True,
        description="Distinct approvers a request needs (2: four eyes); never the requester.",
    )  # fmt: skip

    _duration = field_validator("expire_after", mode="before")(
        classmethod(lambda _, v: parse_duration(v))
    )


class Recovery(_Section):
    stale_after: timedelta = Field(
        timedelta(minutes=2),
        description="A running operation whose heartbeat is older than this is interrupted.",
    )
    interval: timedelta = Field(
        timedelta(minutes=5), description="How often the bot reconciles interrupted operations."
    )

    _duration = field_validator("stale_after", "interval", mode="before")(
        classmethod(lambda _, v: parse_duration(v))
    )


class Reports(_Section):
    channel: str | None = Field(None, description="Channel id for scheduled reports; unset: none.")
    cron: str = Field("0 9 * * 1", description="Crontab line for the report (default Mon 09:00).")
    timezone: str = Field("UTC", description="Time zone the crontab is read in.")
    notify_owners: bool = Field(
        False,
        description="DM each owner once per new template build about their VMs on older "
        "builds, with [Rebuild] and [Dismiss].",
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        # Imported here: APScheduler is the bot's scheduler, and a policy without `reports.cron`
        # (every CLI run) should not pay ~50 ms to load it.
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(
                f"{value!r} is not a crontab line (minute hour day month weekday): {exc}"
            ) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone, e.g. UTC or Europe/Berlin") from None
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        return value if value is None else _ids([value], _CHANNEL, "Slack channel id (C...)")[0]


class CliPolicy(_Section):
    """Who the `solti` command trusts (``cli:``); see docs/operations.md, Who may do what."""

    operators: list[str] | None = Field(
        None,
        description="Login names that may act on any VM and run template build/destroy, "
        "reconcile and lease sweep; other CLI users act only on VMs they own. Unset: every "
        "CLI user is an operator (an admin's own machine); [] : nobody is.",
    )

    @field_validator("operators")
    @classmethod
    def _logins(cls, value: list[str] | None) -> list[str] | None:
        for name in value or ():
            if not name or name != name.strip() or any(c.isspace() for c in name):
                raise ValueError(f"{name!r} is not a login name (no spaces, not empty)")
        return value


class Policy(_Section):
    """The policy file (``SOLTI_CONFIG``). Empty lists mean "anyone" where noted."""

    approvers: list[str] = Field(
        default_factory=list, description="Slack user (U/W...) or usergroup (S...) ids."
    )
    approvals_channel: str | None = Field(None, description="Channel id for approval requests.")
    admins: list[str] = Field(default_factory=list, description="User or usergroup ids.")
    allowed_channels: list[str] = Field(
        default_factory=list, description="Channel ids the bot answers in; empty: any."
    )
    creators: list[str] = Field(
        default_factory=list, description="Who may create VMs (user or usergroup ids); empty: any."
    )
    quotas: Quotas = Field(default_factory=Quotas)
    limits: Limits = Field(
        default_factory=Limits, description="Most one VM may have (per_vm: cores, memory, disk)."
    )
    flavors: dict[str, Flavor] = Field(
        default_factory=dict, description="Named sizes chosen with --size NAME."
    )
    approvals: Approvals = Field(default_factory=Approvals)
    reports: Reports = Field(default_factory=Reports)
    recovery: Recovery = Field(
        default_factory=Recovery, description="When a running operation counts as interrupted."
    )
    defaults: Defaults = Field(default_factory=Defaults)
    leases: LeasePolicy = Field(
        default_factory=LeasePolicy, description="How long VMs live; see docs/fleet.md."
    )
    distributions: dict[str, DistributionOverride] = Field(
        default_factory=dict, description="Add or override catalog entries."
    )
    snapshots: SnapshotPolicy = Field(
        default_factory=SnapshotPolicy,
        description="VM snapshots: max_per_vm, max_age (report), allow_memory.",
    )
    placement: PlacementPolicy = Field(
        default_factory=PlacementPolicy,
        description="Which node a create without --node goes to; see docs/proxmox.md.",
    )
    clusters: dict[str, ClusterEntry] = Field(
        default_factory=dict,
        description="More Proxmox VE clusters by name (the PROXMOX_* one is `default`); "
        "see docs/proxmox.md, 9. Several clusters.",
    )
    cli: CliPolicy = Field(
        default_factory=CliPolicy,
        description="Who the `solti` command trusts (operators); see docs/operations.md.",
    )

    @field_validator("approvers", "admins", "creators")
    @classmethod
    def _people(cls, value: list[str]) -> list[str]:
        return _ids(value, _PERSON, "Slack user id (U...) or usergroup id (S...)")

    @field_validator("allowed_channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        return _ids(value, _CHANNEL, "Slack channel id (C...)")

    @field_validator("approvals_channel")
    @classmethod
    def _approvals_channel(cls, value: str | None) -> str | None:
        return value if value is None else _ids([value], _CHANNEL, "Slack channel id (C...)")[0]

    @field_validator("clusters")
    @classmethod
    def _clusters(cls, value: dict[str, ClusterEntry]) -> dict[str, ClusterEntry]:
        return check_clusters(value)

    def catalog(self) -> Catalog:
        """The built-in catalog merged with this policy's ``distributions``."""
        return Catalog.load(self.distributions)

    def fleet(self) -> Fleet:
        """The limits, flavors, quotas and create approvals the verbs enforce."""
        return Fleet(
            limits=self.limits,
            flavors=dict(self.flavors),
            quotas=self.quotas,
            placement=self.placement,
            create_approvals=self.approvals.vm_create,
        )


def check_database_path(path: str | Path) -> Path:
    """``SOLTI_DB`` as given, once its directory is known to exist.

    The file itself is created on first use, but not its directory: a typo in the path would
    otherwise start a fresh, empty audit log somewhere else without a word.
    """
    file = Path(path)
    directory = file.expanduser().parent
    if not directory.is_dir():
        raise ConfigError(
            f"the directory {str(directory)!r} of {str(file)!r} does not exist; create it "
            f"(mkdir -p {directory}) or correct the path",
            key="SOLTI_DB",
        )
    return file


def load_policy(path: str | Path | None = None) -> Policy:
    """Read the policy file at ``path`` (default ``$SOLTI_CONFIG``); no file means defaults."""
    if path is None:
        path = os.environ.get("SOLTI_CONFIG") or None
    if path is None:
        return Policy()
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read {str(file)!r}: {exc.strerror}", key="SOLTI_CONFIG"
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{file}: not UTF-8 text (byte {exc.start}, 0x{raw[exc.start]:02x}); "
            "save the file as UTF-8",
            key="SOLTI_CONFIG",
        ) from None
    data = parse_guarded_yaml(text, file)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: the top level must be a mapping of keys", key="SOLTI_CONFIG")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise config_error_from(exc, Policy) from None
    policy.catalog()  # new or overridden distributions fail now, not at the first build
    return policy


# The variables and the directory that make `settings_sources` read files (the same names as
# its ENV_FILE_VARIABLE, SECRETS_DIR_VARIABLE, DEFAULT_SECRETS_DIR; a test holds them equal).
FILE_SOURCE_VARIABLES = ("SOLTI_ENV_FILE", "SOLTI_SECRETS_DIR")
DEFAULT_SECRETS_DIR = Path("/run/secrets")


def proxmox_from_env(environ: Mapping[str, str]) -> ProxmoxConnection:
    """``ProxmoxSettings.from_env(environ)``, the same values and the same errors.

    With no `.env` file or secrets directory named (nor ``/run/secrets`` present), the
    environment is the only source: it is read here as the environment source reads it
    (names in any case, an empty value unset) and validated by ``ProxmoxConnection``, so
    the CLI does not load pydantic-settings (~50 ms). Any file source, or any invalid or
    missing value, goes to ``ProxmoxSettings.from_env``, which reads every source and reports
    every bad variable at once.
    """
    if any(environ.get(name) for name in FILE_SOURCE_VARIABLES) or DEFAULT_SECRETS_DIR.is_dir():
        return _settings_from_env(environ)
    values = {name.lower(): value for name, value in environ.items() if value != ""}
    aliases = [str(field.validation_alias) for field in ProxmoxConnection.model_fields.values()]
    data = {alias: values[alias.lower()] for alias in aliases if alias.lower() in values}
    try:
        connection = ProxmoxConnection.model_validate(data)
    except ValidationError:
        return _settings_from_env(environ)
    from solti.telemetry.redaction import add_secret

    add_secret(connection.token_secret.get_secret_value())
    return connection


def _settings_from_env(environ: Mapping[str, str]) -> ProxmoxConnection:
    from solti.provisioning.proxmox_settings import ProxmoxSettings

    return ProxmoxSettings.from_env(environ)


if TYPE_CHECKING:
    from solti.provisioning.proxmox_settings import ProxmoxSettings


def __getattr__(name: str) -> Any:
    """``ProxmoxSettings`` loads pydantic-settings, so it is defined in ``proxmox_settings``
    and loaded on first use; ``from solti.provisioning.config import ProxmoxSettings`` works."""
    if name == "ProxmoxSettings":
        from solti.provisioning.proxmox_settings import ProxmoxSettings

        return ProxmoxSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
