"""The provisioning error tree.

Callers choose the level to catch: the bot maps branches to user messages, the CLI maps any
``SoltiError`` to one stderr line and a non-zero exit code.

    SoltiError
     ├── InvalidRequest(field)        a request value is wrong; nothing was changed
     ├── NotFound                     a VM, template, node or storage does not exist
     ├── Conflict                     exists already, in use, locked, ambiguous
     ├── RangeExhausted               no free VMID left in a range
     ├── PolicyDenied                 the policy file forbids it (who, where, quota)
     ├── ConfigError(key)             environment or policy file is wrong
     └── ProxmoxError(status, errors, step)
          ├── TaskFailed(upid, exitstatus)
          ├── TaskTimeout
          └── Unreachable

Messages are for people: what was wrong, where, and what is allowed. They never carry a secret
(token secrets are ``SecretStr`` and are never interpolated here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "ConfigError",
    "Conflict",
    "InvalidRequest",
    "NotFound",
    "PolicyDenied",
    "ProxmoxError",
    "RangeExhausted",
    "SoltiError",
    "TaskFailed",
    "TaskTimeout",
    "Unreachable",
]


class SoltiError(Exception):
    """Root of every error the provisioning package raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidRequest(SoltiError):
    """A request value is wrong; raised before anything is changed.

    ``field`` names the offending request field (``disk``, ``ssh_keys[1]``) so a form or a CLI
    option can point at it.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(
            f"{field}: {message}" if field and not message.startswith(field) else message
        )
        self.field = field
        self.detail = message


class NotFound(SoltiError):
    """The thing asked for does not exist (VM, template, node, storage, distribution)."""


class Conflict(SoltiError):
    """The request collides with existing state: id taken, template in use, ambiguous name."""


class RangeExhausted(SoltiError):
    """Every VMID of a range is used; someone must free one or widen the range."""


class PolicyDenied(SoltiError):
    """The policy file forbids this actor, channel or quantity."""


class ConfigError(SoltiError):
    """The environment or the policy file is wrong; ``key`` is its path (``quotas.max_vms``)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(f"{key}: {message}" if key and not message.startswith(key) else message)
        self.key = key
        self.detail = message


class ProxmoxError(SoltiError):
    """Proxmox VE refused or failed a call; keeps the wire facts for the caller.

    ``status`` is the HTTP status (None when no answer came), ``errors`` PVE's per-parameter map,
    ``step`` the provisioning step that was running (``clone``, ``resize``...).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: Mapping[str, Any] | None = None,
        step: str | None = None,
    ) -> None:
        detail = message
        if errors:
            detail += " (" + "; ".join(f"{k}: {v}" for k, v in sorted(errors.items())) + ")"
        if step:
            detail = f"{step}: {detail}"
        super().__init__(detail)
        self.reason = message
        self.status = status
        self.errors: dict[str, Any] = dict(errors or {})
        self.step = step


class TaskFailed(ProxmoxError):
    """An asynchronous PVE task ended with an exit status other than ``OK``."""

    def __init__(
        self,
        message: str,
        *,
        upid: str,
        exitstatus: str | None,
        step: str | None = None,
        status: int | None = None,
        errors: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, status=status, errors=errors, step=step)
        self.upid = upid
        self.exitstatus = exitstatus


class TaskTimeout(ProxmoxError):
    """A PVE task did not finish within the allowed time; it may still be running."""


class Unreachable(ProxmoxError):
    """No answer from the Proxmox VE API (connection refused, TLS failure, dropped connection)."""
