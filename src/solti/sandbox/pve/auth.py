"""Authentication as pveproxy does it: API tokens and tickets with CSRF tokens.

The token header is parsed exactly as pve-http-server's ``extract_auth_value`` and
pve-access-control's ``verify_token`` do, so a client that builds it wrongly fails here too.
Tickets are signed with an HMAC instead of RSA; their shape matches PVE's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import unquote

from solti.sandbox.pve.clock import Clock
from solti.sandbox.pve.state import PveError

TOKEN_RE = re.compile(r"(?:^|\s)PVEAPIToken(?:=| )([^;]*)")
TOKEN_ID_RE = re.compile(r"^(\S+@\S+)!([A-Za-z][A-Za-z0-9.\-_]+)$")
TICKET_LIFETIME = 7200
USER = "root@pam"


@dataclass(frozen=True)
class Identity:
    """Who is calling: ``user`` (``root@pam``) and the token name when a token was used."""

    user: str
    tokenid: str | None = None
    via_ticket: bool = False

    @property
    def task_user(self) -> str:
        """The user field written into UPIDs (``root@pam!solti`` for tokens)."""
        return f"{self.user}!{self.tokenid}" if self.tokenid else self.user


class Authenticator:
    """Checks credentials of one request; raises 401 ``PveError`` as pveproxy answers."""

    def __init__(self, clock: Clock, token_id: str = f"{USER}!solti") -> None:
        self._clock = clock
        self.token_id = token_id
        self.token_secret = str(uuid.uuid4())
        self.password = secrets.token_urlsafe(18)
        self._key = secrets.token_bytes(32)

    # -- tickets ------------------------------------------------------------------------
    def _sign(self, text: str) -> str:
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def issue_ticket(self, username: str, password: str) -> dict[str, str]:
        """``POST /access/ticket``: a password or a still-valid ticket renews the login."""
        if not (username == USER and (password == self.password or self._ticket_ok(password))):
            raise PveError(401, "authentication failure\n")
        stamp = f"{int(self._clock.time()):08X}"
        plain = f"PVE:{USER}:{stamp}"
        csrf_plain = f"{stamp}:{USER}"
        return {
            "username": USER,
            "ticket": f"{plain}::{self._sign(plain)}",
            "CSRFPreventionToken": f"{stamp}:{self._sign(csrf_plain)}",
            "clustername": "solti-sim",
        }

    def _ticket_ok(self, ticket: str) -> bool:
        match = re.fullmatch(r"(PVE:([^:]+):([0-9A-F]{8}))::(\S+)", ticket or "")
        if not match or match.group(2) != USER:
            return False
        if not hmac.compare_digest(self._sign(match.group(1)), match.group(4)):
            return False
        return self._clock.time() - int(match.group(3), 16) < TICKET_LIFETIME

    def _csrf_ok(self, token: str | None) -> bool:
        match = re.fullmatch(r"([0-9A-F]{8}):(\S+)", token or "")
        if not match:
            return False
        expected = self._sign(f"{match.group(1)}:{USER}")
        fresh = self._clock.time() - int(match.group(1), 16) < TICKET_LIFETIME
        return fresh and hmac.compare_digest(expected, match.group(2))

    # -- per request --------------------------------------------------------------------
    def authenticate(self, method: str, headers: dict[str, str]) -> Identity:
        """Identify the caller from headers (lower-cased names) or raise 401."""
        authz = headers.get("authorization", "")
        token_match = TOKEN_RE.search(authz)
        if token_match:
            return self._check_token(token_match.group(1))
        ticket = _cookie(headers.get("cookie", ""), "PVEAuthCookie")
        if ticket is None:
            auth_cookie = re.search(r"(?:^|\s)PVEAuthCookie=([^;\s]*)", authz)
            ticket = auth_cookie.group(1) if auth_cookie else None
        if ticket is None:
            raise PveError(401, "No ticket")
        if not self._ticket_ok(unquote(ticket)):
            raise PveError(401, "Authentication failed!")
        if method != "GET" and not self._csrf_ok(headers.get("csrfpreventiontoken")):
            raise PveError(401, "Permission denied - invalid csrf token")
        return Identity(USER, via_ticket=True)

    def _check_token(self, raw: str) -> Identity:
        value = unquote(raw)
        match = re.fullmatch(r"(.*)=(.*)", value, flags=re.S)
        if not match:
            raise PveError(401, "Authentication failed!")
        token_id, secret = match.groups()
        id_match = TOKEN_ID_RE.fullmatch(token_id)
        if not id_match or token_id != self.token_id:
            raise PveError(401, "Authentication failed!")
        if not hmac.compare_digest(secret.encode(), self.token_secret.encode()):
            raise PveError(401, "Authentication failed!")
        return Identity(id_match.group(1), tokenid=id_match.group(2))


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None
