"""The caller of a flow and how errors become sentences for people."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.blocks.replies import error_message
from bot.runtime import Runtime
from provisioning import (
    Conflict,
    InvalidRequest,
    NotFound,
    PolicyDenied,
    ProxmoxError,
    RangeExhausted,
    SoltiError,
    TaskTimeout,
    Unreachable,
)

__all__ = ["Caller", "describe_error"]

log = logging.getLogger("bot.flows")


@dataclass
class Caller:
    """Who asked, where, and how to answer them privately."""

    runtime: Runtime
    user: str
    channel: str | None
    request_id: str
    reply: Callable[[dict[str, Any]], None]
    trigger_id: str | None = None

    def say_error(self, text: str, topic: str | None = None) -> None:
        self.reply(error_message(text, topic))

    @property
    def groups(self) -> frozenset[str]:
        return self.runtime.groups_of(self.user)


def describe_error(exc: BaseException) -> tuple[str, str | None]:
    """A message for people and the step it happened at; never a traceback or a secret."""
    step = getattr(exc, "step", None)
    if isinstance(exc, Unreachable):
        return (
            "Proxmox VE is not answering right now, so nothing was changed. "
            "Try again in a minute; if it persists, tell an admin.",
            step,
        )
    if isinstance(exc, TaskTimeout):
        return (
            f"Proxmox VE is slow: a task did not finish in time ({exc.message}). "
            "It may still complete; check with `/solti vm list` before retrying.",
            step,
        )
    if isinstance(exc, ProxmoxError):
        return (f"Proxmox VE refused: {exc.message}", step)
    if isinstance(
        exc, InvalidRequest | NotFound | Conflict | RangeExhausted | PolicyDenied | SoltiError
    ):
        return (exc.message if hasattr(exc, "message") else str(exc), step)
    ref = uuid.uuid4().hex[:8]
    log.error("unexpected error (ref %s)", ref, exc_info=exc)
    return (f"Something went wrong on our side (reference `{ref}`); nothing more was done.", step)
