"""`SlackStandIn`: a local Slack Web API on loopback, for tests and the sandbox console.

Point `WebClient(base_url=standin.url)` (or `SLACK_API_URL`) at it. It answers the methods
in `methods.py`, records whole requests, keeps channels/ephemerals/views, takes response_url
posts, and rejects Block Kit that Slack would reject. `apps.connections.open` (with an
`xapp-` token) hands out a websocket URL on `.socket_mode`, Slack's side of Socket Mode.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, TypeVar

from solti.sandbox.slack import methods
from solti.sandbox.slack.store import (
    APP_ID,
    BOT_SCOPES,
    TRIGGER_TTL_SECONDS,
    AckTimeout,
    Call,
    GridOrg,
    ResponsePost,
    SlackError,
    SlackState,
)

if TYPE_CHECKING:
    from solti.sandbox.slack.socket_mode import SocketModeServer

T = TypeVar("T")
_REDACTED = "<redacted>"


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """JSON or form, as WebClient sends either (the body starts with `{` for JSON)."""
    text = raw.decode("utf-8") if raw else ""
    if "json" in content_type or text.lstrip().startswith("{"):
        data = json.loads(text) if text.strip() else {}
        return data if isinstance(data, dict) else {}
    return {k: v[-1] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Buffered (flushed once per request by ``handle_one_request``) so headers and body leave
    # in one segment; two small writes on a keep-alive connection cost ~40 ms each (Nagle's
    # algorithm against the client's delayed ACK).
    wbufsize = 64 * 1024

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; `.calls` is the record."""

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        content_type = "text/plain" if isinstance(body, bytes) else "application/json"
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            params = _parse_body(raw, self.headers.get("Content-Type", ""))
        except (json.JSONDecodeError, UnicodeDecodeError):
            self._reply(200, {"ok": False, "error": "invalid_json"})
            return
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        params = {**query, **params}
        if url.path.startswith("/api/"):
            self._api(url.path[len("/api/") :], params)
        elif url.path.startswith("/response/"):
            self._response_url(url.path[len("/response/") :], params)
        else:
            self._reply(404, b"not found")

    def _api(self, method: str, params: dict[str, Any]) -> None:
        state = self.server.state
        header_token = self.headers.get("Authorization", "")
        token = header_token.removeprefix("Bearer ").strip() or str(params.pop("token", ""))
        params.pop("token", None)
        headers = {
            k: (_REDACTED if k.lower() == "authorization" else v) for k, v in self.headers.items()
        }
        call = Call(method=method, params=params, headers=headers)
        retry_after = state.take_rate_limit(method)
        if retry_after is not None:
            call.status, call.response = 429, {"ok": False, "error": "ratelimited"}
            state.record(call)
            self._reply(429, call.response, {"Retry-After": str(int(retry_after))})
            return
        handler = methods.METHODS.get(method)
        if method in methods.APP_TOKEN_METHODS:
            wrong = methods.app_token_error(token)
            response: dict[str, Any] = (
                {"ok": False, "error": wrong}
                if wrong
                else {"ok": True, **methods.apps_connections_open(self.server.socket_url())}
            )
        elif handler is None:
            response = {"ok": False, "error": "unknown_method"}
        elif not token and method not in methods.NO_AUTH:
            response = {"ok": False, "error": "not_authed"}
        elif token and not token.startswith("xoxb-") and method not in methods.NO_AUTH:
            response = {"ok": False, "error": "invalid_auth"}
        else:
            try:
                response = {"ok": True, **handler(state, params)}
            except SlackError as exc:
                response = {"ok": False, "error": exc.code}
                for key in ("needed", "provided"):
                    if key in exc.extra:
                        response[key] = exc.extra[key]
                errors = exc.extra.get("errors")
                if errors:
                    response["errors"] = errors
                    response["response_metadata"] = {"messages": [f"[ERROR] {e}" for e in errors]}
        call.response = response
        state.record(call)
        extra = {"X-OAuth-Scopes": ",".join(sorted(state.scopes))}
        self._reply(200, response, extra)

    def _response_url(self, key: str, body: dict[str, Any]) -> None:
        state = self.server.state
        status, answer = 200, b"ok"
        try:
            blocks = body.get("blocks")
            if blocks is not None:
                errors = methods.blockkit.validate_blocks(blocks)
                if errors:
                    raise SlackError("invalid_blocks", errors=errors)
            state.respond(key, body)
        except SlackError as exc:
            status = 404 if exc.code in ("invalid_url", "used_url", "expired_url") else 400
            answer = exc.code.encode()
        with state.changed:
            state.response_posts.append(ResponsePost(key=key, body=body, status=status))
            state._touch()
        self._reply(status, answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: SlackState, socket_url: Callable[[], str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.socket_url = socket_url  # apps.connections.open: a URL on the Socket Mode server


class SlackStandIn:
    """A local Slack Web API. `start()` binds 127.0.0.1 on an ephemeral port."""

    def __init__(
        self,
        *,
        trigger_ttl: float | None = TRIGGER_TTL_SECONDS,
        scopes: frozenset[str] = BOT_SCOPES,
        grid: GridOrg | None = None,
    ) -> None:
        """``grid``: run the workspace as part of an Enterprise Grid org (see ``GridOrg``)."""
        self.state = SlackState(trigger_ttl=trigger_ttl, scopes=scopes, grid=grid)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._socket_mode: SocketModeServer | None = None
        self._socket_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SlackStandIn:
        if self._server is None:
            self._server = _Server(self.state, lambda: self.socket_mode.issue_url())
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="slack-standin", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._socket_lock:
            if self._socket_mode is not None:
                self._socket_mode.stop()
                self._socket_mode = None

    @property
    def socket_mode(self) -> SocketModeServer:
        """Slack's side of Socket Mode, started on first use (`apps.connections.open` or a
        test); its URLs are what `apps.connections.open` answers with an `xapp-` token."""
        with self._socket_lock:
            if self._socket_mode is None:
                from solti.sandbox.slack.socket_mode import SocketModeServer

                self._socket_mode = SocketModeServer(app_id=APP_ID).start()
            return self._socket_mode

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget calls, messages, views and posts; keep seeded users, groups and channels."""
        self.state.clear()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("SlackStandIn is not started")
        return int(self._server.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The Web API base URL: `WebClient(base_url=...)` / `SLACK_API_URL`."""
        return f"{self.base}/api/"

    # -- seeding ---------------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, real_name: str | None = None, **extra: Any) -> None:
        self.state.add_user(user_id, name, real_name, **extra)

    def add_usergroup(self, group_id: str, handle: str, members: list[str]) -> None:
        self.state.add_usergroup(group_id, handle, members)

    def add_channel(
        self,
        channel_id: str,
        name: str,
        members: list[str] | None = None,
        *,
        bot_member: bool = True,
    ) -> None:
        """A conversation; the bot is in it unless ``bot_member=False`` (see ``SlackState``)."""
        self.state.add_channel(channel_id, name, members, bot_member=bot_member)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass for the stand-in's time limits (a response_url's 30 minutes)."""
        self.state.advance(seconds)

    def rate_limit_next(self, method: str, retry_after: float = 1, times: int = 1) -> None:
        """The next `times` calls to `method` get HTTP 429 with `Retry-After`."""
        self.state.rate_limit_next(method, retry_after, times)

    def response_url(
        self,
        key: str,
        *,
        channel: str | None = None,
        user: str | None = None,
        message_ts: str | None = None,
        is_ephemeral: bool = False,
    ) -> str:
        """A response_url on this server; posts to it act on `channel`/`user`/`message_ts`."""
        self.state.register_response_target(key, channel, user, message_ts, is_ephemeral)
        return f"{self.base}/response/{urllib.parse.quote(key, safe='')}"

    @property
    def ack_timeouts(self) -> list[AckTimeout]:
        """Requests the app did not acknowledge within 3 s (a test that causes one fails)."""
        with self.state.changed:
            return list(self.state.ack_timeouts)

    def issue_trigger(self, user: str) -> str:
        return self.state.issue_trigger(user)

    # -- reading ---------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self.state.changed:
            return list(self.state.calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @property
    def response_posts(self) -> list[ResponsePost]:
        with self.state.changed:
            return list(self.state.response_posts)

    def messages(self, channel: str, thread_ts: str | None = None) -> list[dict[str, Any]]:
        return self.state.messages(channel, thread_ts)

    def last_message(self, channel: str) -> dict[str, Any] | None:
        found = self.messages(channel)
        return found[-1] if found else None

    def all_messages(self) -> list[dict[str, Any]]:
        return self.state.all_messages()

    def revisions(self, channel: str, ts: str) -> list[dict[str, Any]]:
        return self.state.revisions(channel, ts)

    def ephemerals(self, user: str) -> list[dict[str, Any]]:
        return self.state.ephemerals(user)

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        with self.state.changed:
            return {vid: self.state.view(vid) for vid in self.state.views}

    def home(self, user: str) -> dict[str, Any] | None:
        """The Home tab the app last published for ``user`` (``views.publish``), or None."""
        return self.state.home_of(user)

    def open_views(self, user: str | None = None) -> list[dict[str, Any]]:
        return self.state.open_views(user)

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until `predicate()` is truthy (re-checked on every change); return its value.

        Listeners run on Bolt's worker threads after the ack, so tests wait for effects.
        """
        deadline = time.monotonic() + timeout
        with self.state.changed:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = ", ".join(c.method for c in self.state.calls[-10:]) or "none"
                    raise TimeoutError(
                        f"condition not met within {timeout}s; last Web API calls: {recent}"
                    )
                self.state.changed.wait(min(remaining, 0.2))
