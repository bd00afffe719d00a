"""Logs and metrics an operator can watch, with no secret ever written out.

Why one module: the bot and the provisioning verbs both log and count, and the redaction rules
must be the same everywhere, so the handler, the formatters, the request-id context and the
Prometheus registry live together and are configured once by the process entry point.

- `configure_logging()` installs one root handler: text for people, JSON (one object per line)
  when `SOLTI_LOG_FORMAT=json`. Every record passes `RedactingFilter` first.
- `log_context(request_id=...)` stamps every line logged inside it (a contextvar, so it follows
  the code path, not the thread; code that hands work to another thread must copy the context).
- The metrics use their own `CollectorRegistry` (`REGISTRY`), so `/metrics` shows only ours and
  tests are not disturbed by the default process collectors.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import re
import sys
import time
import traceback
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TextIO
from urllib.parse import quote, quote_plus

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    make_wsgi_app,
)

__all__ = [
    "ACK_LATENCY",
    "APPROVALS_WAITING",
    "COMMANDS",
    "LOG_ENV_VARS",
    "PROVISIONING_STEP",
    "PROXMOX_ERRORS",
    "REDACTED",
    "REGISTRY",
    "SECRET_ENV_VARS",
    "JsonFormatter",
    "RedactingFilter",
    "TextFormatter",
    "add_secret",
    "configure_logging",
    "current_context",
    "log_context",
    "metrics_wsgi_app",
    "redact",
    "render_metrics",
    "step_timer",
    "track_command",
]

LogFormat = Literal["text", "json"]

REDACTED = "[REDACTED]"

# Environment variables whose values are secrets wherever they appear.
SECRET_ENV_VARS: tuple[str, ...] = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "PROXMOX_TOKEN_SECRET",
    "PROXMOX_PASSWORD",
)

# Documented by the configuration reference (scripts/gen_config_reference.py).
LOG_ENV_VARS: dict[str, tuple[str, str]] = {
    "SOLTI_LOG_FORMAT": ("text", "`text` for people, `json` for one JSON object per line."),
    "SOLTI_LOG_LEVEL": ("INFO", "Lowest level written: DEBUG, INFO, WARNING, ERROR."),
}

# Shapes of credentials, redacted even when nobody told us the value.
_TOKEN_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Slack bot/user/app/refresh tokens: xoxb-, xoxp-, xoxa-, xoxe.xoxp-, xapp-.
    (re.compile(r"\b(?:xox[abeoprs](?:\.xox[a-z])?|xapp)-[A-Za-z0-9-]+"), REDACTED),
    # Proxmox API token header: keep the token id (who), drop the secret.
    (
        re.compile(r"(PVEAPIToken[= ](?:[^\s=;,'\"]+))=[^\s;,'\"]+"),
        rf"\1={REDACTED}",
    ),
    # Proxmox ticket cookie and CSRF token.
    (re.compile(r"(PVEAuthCookie=)[^\s;,'\"]+"), rf"\1{REDACTED}"),
    (re.compile(r"(CSRFPreventionToken['\"]?\s*[:=]\s*['\"]?)[^\s;,'\"]+"), rf"\1{REDACTED}"),
    # Bearer/Basic credentials in any Authorization header.
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]+=*"), rf"\1 {REDACTED}"),
    # A UUID right after '=' (API token secrets are UUIDs): `...!solti=0e1f...`.
    (
        re.compile(
            r"=\s*[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
        ),
        f"={REDACTED}",
    ),
    # password=..., secret=..., token=... in query strings, forms and reprs.
    (
        re.compile(
            r"((?:password|passwd|secret|signing_secret|token_secret)['\"]?\s*[:=]\s*['\"]?)"
            r"[^\s&;,'\"]+",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
)

_known_secrets: set[str] = set()

# Short values would redact ordinary words; real secrets are long.
_MIN_SECRET_LENGTH = 6


def add_secret(value: str | None) -> None:
    """Remember a secret value so it is removed from every later log line, encoded or not."""
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    _known_secrets.update({value, quote(value, safe=""), quote_plus(value)})


def _secrets_from_environment(environ: Mapping[str, str]) -> None:
    for name in SECRET_ENV_VARS:
        add_secret(environ.get(name))


def redact(text: str) -> str:
    """Remove known secrets and token-shaped strings from `text`."""
    # Longest first, so a secret containing another is removed whole.
    for secret in sorted(_known_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _TOKEN_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


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
        record.msg = redact(message)
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
                setattr(record, key, _redact_value(value))
        context = current_context()
        for key, value in context.items():
            if not hasattr(record, key):
                setattr(record, key, _redact_value(value))
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
        line = json.dumps(_redact_value(document), default=str, ensure_ascii=False)
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
    _secrets_from_environment(env)
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


# ---------------------------------------------------------------------------------------------
# Metrics

REGISTRY = CollectorRegistry(auto_describe=True)

COMMANDS = Counter(
    "solti_commands",
    "Commands handled, by verb (e.g. 'vm create') and outcome (ok, failed, denied, invalid).",
    ["verb", "outcome"],
    registry=REGISTRY,
)
ACK_LATENCY = Histogram(
    "solti_ack_latency_seconds",
    "Time from receiving a Slack request to acknowledging it (Slack allows 3 s).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0),
    registry=REGISTRY,
)
PROVISIONING_STEP = Histogram(
    "solti_provisioning_step_seconds",
    "Duration of each provisioning step (clone, resize, cloud-init, start, download, ...).",
    ["operation", "step"],
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0),
    registry=REGISTRY,
)
PROXMOX_ERRORS = Counter(
    "solti_proxmox_errors",
    "Errors from the Proxmox VE API, by kind (the error class, e.g. TaskFailed, Unreachable).",
    ["kind"],
    registry=REGISTRY,
)
APPROVALS_WAITING = Gauge(
    "solti_approvals_waiting",
    "Approval requests currently waiting for a decision.",
    registry=REGISTRY,
)


def render_metrics() -> tuple[bytes, str]:
    """The `/metrics` body and its content type, for servers that are not WSGI."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def metrics_wsgi_app() -> Any:
    """A WSGI app serving the registry; mount it at `/metrics`."""
    return make_wsgi_app(registry=REGISTRY)


_log = logging.getLogger("solti.telemetry")


@contextlib.contextmanager
def track_command(verb: str, logger: logging.Logger | None = None) -> Iterator[dict[str, str]]:
    """Count one command and log one line for it when it ends.

    The block may set `outcome` in the yielded dict (e.g. 'denied'); an exception counts as
    'failed' and is re-raised.
    """
    state = {"outcome": "ok"}
    started = time.monotonic()
    try:
        yield state
    except BaseException:
        state["outcome"] = "failed"
        raise
    finally:
        COMMANDS.labels(verb=verb, outcome=state["outcome"]).inc()
        (logger or _log).info(
            "command %s: %s",
            verb,
            state["outcome"],
            extra={
                "verb": verb,
                "outcome": state["outcome"],
                "duration_ms": round((time.monotonic() - started) * 1000),
            },
        )


@contextlib.contextmanager
def step_timer(operation: str, step: str, logger: logging.Logger | None = None) -> Iterator[None]:
    """Time one provisioning step into the histogram and log one line when it ends."""
    started = time.monotonic()
    outcome = "ok"
    try:
        yield
    except BaseException:
        outcome = "failed"
        raise
    finally:
        elapsed = time.monotonic() - started
        PROVISIONING_STEP.labels(operation=operation, step=step).observe(elapsed)
        (logger or _log).info(
            "%s step %s: %s",
            operation,
            step,
            outcome,
            extra={
                "operation": operation,
                "step": step,
                "outcome": outcome,
                "duration_ms": round(elapsed * 1000),
            },
        )
