"""A thin adapter over provisioning's façade and audit log.

The bot passes Slack context (actor, via, request id, approver, progress callback) to every
verb; ``call`` hands a verb only the keyword arguments its signature takes, so the bot keeps
working while the façade grows, without reaching into provisioning internals.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

__all__ = ["audit_query", "audit_record", "call"]

log = logging.getLogger("solti.bot.facade")


def _accepts(fn: Callable[..., Any]) -> tuple[set[str], bool]:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return set(), True
    names = {p.name for p in params}
    return names, any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` with the keyword arguments it accepts; drop the rest (None values too)."""
    names, var_kw = _accepts(fn)
    chosen = {k: v for k, v in kwargs.items() if v is not None and (var_kw or k in names)}
    return fn(*args, **chosen)


def audit_record(audit: Any, **fields: Any) -> None:
    """Write one decision (approve, deny, refusal) to the audit log; never fail the caller."""
    if audit is None:
        log.warning("no audit log configured; decision not recorded: %s", fields.get("action"))
        return
    fields.setdefault("via", "slack")
    try:
        call(audit.record, **fields)
    except Exception:  # an audit failure must not hide the decision from the person
        log.exception("could not write audit record for %s", fields.get("action"))


def audit_query(audit: Any, *, user: str | None, vmid: int | None, limit: int) -> list[Any]:
    if audit is None:
        return []
    return list(call(audit.query, user=user, vmid=vmid, limit=limit))
