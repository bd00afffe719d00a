"""Logging: one root handler, text or JSON lines, every record redacted and stamped.

- `configure_logging()` installs one root handler: text for people, JSON (one object per line)
  when `SOLTI_LOG_FORMAT=json`. Every record passes `RedactingFilter` first.
- `log_context(request_id=...)` stamps every line logged inside it (a contextvar, so it follows
  the code path, not the thread; code that hands work to another thread must copy the context).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
import traceback
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from solti.telemetry.redaction import add_secret, redact, redact_value, secrets_from_environment

__all__ = [
    "LOG_ENV_VARS",
    "JsonFormatter",
    "LogFormat",
    "RedactingFilter",
    "TextFormatter",
    "configure_logging",
    "current_context",
    "log_context",
    "printable",
]

LogFormat = Literal["text", "json"]

# Documented by the configuration reference (scripts/gen_config_reference.py).
LOG_ENV_VARS: dict[str, tuple[str, str]] = {
    "SOLTI_LOG_FORMAT": ("text", "`text` for people, `json` for one JSON object per line."),
    "SOLTI_LOG_LEVEL": ("INFO", "Lowest level written: DEBUG, INFO, WARNING, ERROR."),
}

# ---------------------------------------------------------------------------------------------
# Request context

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "solti_log_context", default=None
)


def current_context() -> dict[str, Any]:
    """The fields every log line currently carries (request_id, ...)."""
    return dict(_context.get() or {})


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[dict[str, Any]]:
    """Stamp every record logged inside the block with `fields` (nested blocks merge)."""
    merged = {**current_context(), **fields}
    token = _context.set(merged)
    try:
        yield merged
    finally:
        _context.reset(token)


# Attributes every LogRecord has; anything else was passed as `extra=`.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


MAX_MESSAGE = 4000
# Control characters (C0, DEL, C1) and Unicode's own line and paragraph separators: a client's
# newline in a logged value would otherwise start a line that looks like ours.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROLS.update({0x2028: "\\u2028", 0x2029: "\\u2029", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"})


def printable(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line (control characters escaped) and at most ``limit`` characters.

    Every message passes here (``RedactingFilter``), so whatever a client sent and a log line
    quotes can neither forge a line nor flood the log; tracebacks are kept apart, multi-line.
    """
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(text) - limit} more characters)"
    return text.translate(_CONTROLS)


def _clean(value: Any) -> Any:
    value = redact_value(value)
    return printable(value) if isinstance(value, str) else value


class RedactingFilter(logging.Filter):
    """Rewrites each record in place so no handler or formatter can see a secret.

    It also copies the current `log_context` onto the record, so formatters need not know
    about contextvars.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg!r} {record.args!r}"
        record.msg = printable(redact(message))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        # The traceback is now in exc_text, redacted; stop formatters re-rendering it raw.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, _clean(value))
        context = current_context()
        for key, value in context.items():
            if not hasattr(record, key):
                setattr(record, key, _clean(value))
        if not hasattr(record, "request_id"):
            record.request_id = None
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD_ATTRS and not key.startswith("_")
    }


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, request_id, then the extras."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in _extras(record).items():
            document.setdefault(key, value)
        if record.exc_text:
            document["exc"] = record.exc_text
        elif record.exc_info:
            document["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            document["stack"] = record.stack_info
        line = json.dumps(redact_value(document), default=str, ensure_ascii=False)
        return redact(line)


class TextFormatter(logging.Formatter):
    """`ts LEVEL logger [request_id] msg key=value ...` for people reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        parts = [_timestamp(record), f"{record.levelname:<7}", record.name]
        if request_id:
            parts.append(f"[{request_id}]")
        parts.append(record.getMessage())
        parts.extend(f"{key}={value}" for key, value in _extras(record).items())
        text = " ".join(str(part) for part in parts)
        if record.exc_text:
            text = f"{text}\n{record.exc_text}"
        elif record.exc_info:
            text = f"{text}\n{self.formatException(record.exc_info)}"
        if record.stack_info:
            text = f"{text}\n{record.stack_info}"
        return redact(text)


_HANDLER_NAME = "solti"


def configure_logging(
    format: LogFormat | None = None,
    level: int | str | None = None,
    *,
    secrets: Iterable[str | None] = (),
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> logging.Handler:
    """Install the one root handler; safe to call again (it replaces its own handler).

    `format` and `level` default to `SOLTI_LOG_FORMAT` and `SOLTI_LOG_LEVEL`. Secret values in
    `SECRET_ENV_VARS` and in `secrets` are redacted from then on.
    """
    env = os.environ if environ is None else environ
    chosen = (format or env.get("SOLTI_LOG_FORMAT") or "text").strip().lower()
    if chosen not in ("text", "json"):
        raise ValueError(f"SOLTI_LOG_FORMAT must be 'text' or 'json', not {chosen!r}")
    chosen_level = level if level is not None else env.get("SOLTI_LOG_LEVEL", "INFO")
    if isinstance(chosen_level, str):
        name = chosen_level.strip().upper()
        resolved = logging.getLevelNamesMapping().get(name)
        if resolved is None:
            raise ValueError(f"SOLTI_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {name!r}")
        chosen_level = resolved
    secrets_from_environment(env)
    for secret in secrets:
        add_secret(secret)

    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(chosen_level)
    return handler
