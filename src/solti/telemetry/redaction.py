"""Secret redaction shared by every log line: known values and credential-shaped text.

Apart from the handlers so the rules are one pure function (``redact``) that the formatters,
the filter and anyone else who prints text can use, tested without logging set up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "REDACTED",
    "SECRET_ENV_VARS",
    "add_secret",
    "redact",
    "redact_value",
    "secrets_from_environment",
]

REDACTED = "[REDACTED]"

# Environment variables whose values are secrets wherever they appear.
SECRET_ENV_VARS: tuple[str, ...] = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "PROXMOX_TOKEN_SECRET",
    "PROXMOX_PASSWORD",
)

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


def secrets_from_environment(environ: Mapping[str, str]) -> None:
    """Remember the values of every variable in ``SECRET_ENV_VARS`` that is set."""
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


def redact_value(value: Any) -> Any:
    """``redact`` applied through mappings and sequences (log ``extra`` fields)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))
