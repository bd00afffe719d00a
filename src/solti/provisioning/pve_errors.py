"""Proxmox VE's answers as our error tree: the subclasses callers react to without parsing text.

PVE says most failures in one status (500) and a sentence; ``classify`` reads the sentence
once, here, so a taken VMID, a missing VM or a busy lock is a type everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from solti.provisioning.errors import Conflict, NotFound, ProxmoxError, Unreachable

__all__ = [
    "MaybeApplied",
    "TokenRejected",
    "VmLocked",
    "VmMissing",
    "VmidTaken",
    "classify",
    "errors_map",
    "token_rejected_message",
]


class MaybeApplied(Unreachable):
    """A change request (POST/PUT/DELETE) got no answer: it may or may not have taken effect.

    Never repeated blindly; the caller checks what exists (``clone`` does) before going on.
    """


class VmMissing(ProxmoxError, NotFound):
    """PVE says the VM's configuration does not exist (PVE answers 500, never 404)."""


class VmidTaken(ProxmoxError, Conflict):
    """A create or clone lost the race for its VMID; take another one."""


class VmLocked(ProxmoxError, Conflict):
    """The VM holds a config lock (``clone``, ``create``, ``backup``...); wait and retry."""


class TokenRejected(ProxmoxError):
    """PVE answered 401: the API token id or secret is wrong, or the token was deleted.

    PVE's own text (``401 Authentication failed!``, empty body) says nothing actionable, so the
    message names the variable to fix. The token id is not a secret and is shown; the secret
    never is.
    """


def token_rejected_message(token_id: str | None, where: str, reason: str = "") -> str:
    """The people-facing text of a 401; pure so it is tested without a server."""
    # A secret pasted into the id by mistake (``user@realm!name=SECRET``) must not be echoed.
    shown = (token_id or "").split("=", 1)[0].strip() or "(not set)"
    detail = f"401 {reason}".strip() if reason else "401"
    return (
        f"Proxmox rejected the API token PROXMOX_TOKEN_ID={shown}: check the secret and that "
        f"the token exists ({where} answered {detail})"
    )


_MISSING_MARKERS = ("does not exist", "unable to find configuration file")
_TAKEN_MARKERS = ("config file already exists", "already exists on node")


def errors_map(errors: Any) -> dict[str, Any]:
    """PVE's per-parameter map, or nothing.

    proxmoxer falls back to ``{"errors": <raw body bytes>}`` when a body is not JSON (PVE's 401
    and 501 answers have empty bodies); those bytes are not parameter errors.
    """
    if not isinstance(errors, Mapping):
        return {}
    return {k: v for k, v in errors.items() if isinstance(v, str)}


def classify(message: str, status: int | None, errors: Mapping[str, Any] | None) -> ProxmoxError:
    """Our error for one PVE answer; the subclass lets callers react without parsing text."""
    errors = dict(errors or {})
    if status == 400 and "already exists" in str(errors.get("vmid", "")):
        return VmidTaken(message, status=status, errors=errors)
    if any(marker in message for marker in _TAKEN_MARKERS):
        return VmidTaken(message, status=status, errors=errors)
    if any(marker in message for marker in _MISSING_MARKERS):
        return VmMissing(message, status=status, errors=errors)
    if message.startswith("VM is locked"):
        return VmLocked(message, status=status, errors=errors)
    if message.startswith("can't lock file") and message.rstrip().endswith("got timeout"):
        # pve-guest-common ``lock_config``: another worker held the config file lock over
        # 10 s (pve-common ``lock_file_full``); busy, like a config lock: wait and retry.
        return VmLocked(message, status=status, errors=errors)
    return ProxmoxError(message, status=status, errors=errors)
