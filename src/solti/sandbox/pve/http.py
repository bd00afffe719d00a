"""The wire: HTTPS server, request decoding, auth/schema/handler pipeline, PVE's envelope.

Every API request goes: transport faults -> body rule for GET/DELETE -> authentication ->
``Schema.resolve`` (501) -> duplicate path parameter (400) -> API token allowed (403) -> the
method's schema ``permissions`` (403, reads and writes) -> proxy to an offline node (595) ->
``Schema.validate`` (400, on the node that runs the method) -> handler (with the checks the
method's own code makes). Errors become PVE's answer with the first message line as HTTP
reason phrase. ``/_sim/*`` is the control plane.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from solti.sandbox.pve.api_errors import ProxyError, PveError
from solti.sandbox.pve.auth import Authenticator, Identity
from solti.sandbox.pve.faults import API_PREFIX, Faults, TransportDecision
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers.api_permissions import check_api2_permissions, method_permissions
from solti.sandbox.pve.handlers.reads import read_handler
from solti.sandbox.pve.handlers.root_only_params import check_root_only_params
from solti.sandbox.pve.propstring import perl_str
from solti.sandbox.pve.routes import NO_AUTH, ROUTES
from solti.sandbox.pve.schema import DUPLICATE_PARAM, Route, Schema, get_schema, param_error
from solti.sandbox.pve.state import Cluster
from solti.sandbox.pve.state.nodes import PROXY_REASON, PROXY_STATUS

JSON_TYPE = "application/json;charset=UTF-8"
SECRET_PARAMS = {"password", "cipassword", "new-password"}
SOCKET_TIMEOUT = 30


@dataclass(frozen=True)
class RequestRecord:
    """One API request as tests count them (control-plane calls are not recorded)."""

    method: str
    path: str
    params: dict[str, Any]
    status: int


class Api:
    """Everything a request needs: model, lock, auth, faults, clock, request log."""

    def __init__(
        self,
        cluster: Cluster,
        auth: Authenticator,
        faults: Faults,
        now: Callable[[], float],
        control: Callable[[str, str, Any], Any],
    ) -> None:
        self.cluster = cluster
        self.auth = auth
        self.faults = faults
        self.now = now
        self.control = control
        self.lock = cluster.mutex
        self.records: list[RequestRecord] = []
        self._records_lock = threading.Lock()
        # Bumped by every reset: a request delayed by a latency fault across a reset belongs
        # to a world that no longer exists, and must not land in the new one.
        self.generation = 0

    def record(self, method: str, path: str, params: dict[str, Any], status: int) -> None:
        shown = {k: ("**********" if k in SECRET_PARAMS else v) for k, v in params.items()}
        with self._records_lock:
            self.records.append(RequestRecord(method, path, shown, status))

    def snapshot(self) -> list[RequestRecord]:
        with self._records_lock:
            return list(self.records)

    def clear_records(self) -> None:
        with self._records_lock:
            self.records.clear()
            self.generation += 1

    def dispatch(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        query: list[tuple[str, str]],
        body: bytes,
        content_type: str,
    ) -> Any:
        """Run the PVE pipeline for an API path (after ``/api2/json``); raise ``PveError``."""
        if body and method in ("GET", "DELETE"):
            raise PveError(501, f"Unexpected content for method '{method}'")
        identity: Identity | None = None
        schema = get_schema()
        try:
            route = schema.resolve(method, path)
        except PveError:
            route = None
        handler = ROUTES.get((method, route.template)) if route else None
        if handler is None and method == "GET":
            route, handler = read_route(path)
        if route is None or (method, route.template) not in NO_AUTH:
            identity = self.auth.authenticate(method, headers)
        if route is None or handler is None:
            raise PveError(501, f"Method '{method} {path}' not implemented")
        json_body = content_type.startswith("application/json")
        params = decode_body(body, json_body)
        params.update(dict(query))
        params.pop("_dc", None)  # AnyEvent.pm ``handle_api2_request``: the no-cache parameter
        uri_param = uri_params(route, params)
        if identity and identity.tokenid and not route.allowtoken:
            raise PveError(
                403,
                f"Permission check failed (URI '{path}' not available with API "
                "token, need proper ticket.)",
            )
        self.check_permissions(route, identity, uri_param)
        self.check_proxy(route.template, uri_param)
        values = schema.validate(route, params, json_body=json_body)
        check_root_only_params(method, route.template, identity, values)  # the code's first
        call = Call(values, identity, self.cluster, self.lock, self.now, self.auth)
        user, tokenid = (identity.user, identity.tokenid) if identity else (None, None)
        with self.cluster.access.acting_for(user, tokenid):
            return handler(call)

    def check_permissions(
        self, route: Route, identity: Identity | None, uri_param: dict[str, Any]
    ) -> None:
        """Every method's ``permissions`` from the schema (reads and writes alike), before
        its parameters are validated and before its handler, as pve-manager
        ``PVE/HTTPServer.pm`` ``rest_handler`` runs ``check_api2_permissions``
        (``handlers/api_permissions.py``) on ``$uri_param``: the path's parameters plus every
        query and body parameter, raw (so clone's ``/vms/{newid}`` is the body's ``newid``).
        The checks a method's own code makes (``$rpcenv->check`` in its ``code``) stay in
        its handler."""
        permissions = method_permissions(route.method, route.template)
        with self.lock:
            check_api2_permissions(permissions, identity, self.cluster.access, uri_param)

    def check_proxy(self, template: str, uri_param: dict[str, Any]) -> None:
        """pve-manager ``PVE/HTTPServer.pm`` ``rest_handler``: a method declared with
        ``proxyto => 'node'`` (every one below ``/nodes/{node}/``) for another node is
        proxied to it after the permission check and before its parameters are validated
        (the target node's ``handle`` does that); to an offline node the connection fails
        and the client gets AnyEvent::HTTP's 595 (``AnyEvent.pm`` ``proxy_request``)."""
        if not template.startswith("/nodes/{node}/"):
            return
        node = uri_param.get("node")
        with self.lock:
            if node in self.cluster.nodes and not self.cluster.nodes.is_online(node):
                raise ProxyError(PROXY_STATUS, PROXY_REASON)


def read_route(path: str) -> tuple[Route | None, Handler | None]:
    """A GET outside the modelled endpoints: routed through the whole schema (``catalog``)."""
    try:
        route = Schema.load_full().resolve("GET", path)
    except PveError:
        return None, None
    return route, read_handler(route.template)


def uri_params(route: Route, params: dict[str, Any]) -> dict[str, Any]:
    """pve-manager ``PVE/HTTPServer.pm`` ``rest_handler``'s ``$uri_param``: the parameters
    matched in the path, then each query/body parameter; one that names a path parameter
    with another value is a 400 before any permission is checked."""
    merged: dict[str, Any] = dict(route.path_params)
    for key in sorted(params):
        value = params[key]
        uri_value = route.path_params.get(key)
        if uri_value is not None and value is not None and perl_str(value) != uri_value:
            raise param_error({key: DUPLICATE_PARAM})
        merged[key] = value
    return merged


def decode_body(body: bytes, json_body: bool) -> dict[str, Any]:
    if not body:
        return {}
    if json_body:
        try:
            decoded = json.loads(body)
        except ValueError as exc:
            raise PveError(400, f"failed to parse JSON body - {exc}") from exc
        return dict(decoded) if isinstance(decoded, dict) else {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


class PveRequestHandler(BaseHTTPRequestHandler):
    """Answers like pveproxy; ``server.api`` is the shared :class:`Api`."""

    server: PveHTTPServer
    protocol_version = "HTTP/1.1"
    # A buffered writer (flushed once per request by ``handle_one_request``): headers and body
    # leave in one segment. Unbuffered, the two small writes on a keep-alive connection met
    # Nagle's algorithm and the client's delayed ACK, and every answer waited ~40 ms.
    wbufsize = 64 * 1024

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; the request log is ``sim.requests``."""

    def do_GET(self) -> None:
        self.handle_any("GET")

    def do_POST(self) -> None:
        self.handle_any("POST")

    def do_PUT(self) -> None:
        self.handle_any("PUT")

    def do_DELETE(self) -> None:
        self.handle_any("DELETE")

    def handle_any(self, method: str) -> None:
        api = self.server.api
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if split.path.startswith("/_sim/"):
            self.control(method, split.path, body)
            return
        path = unquote(split.path)
        api_path = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else path
        query = parse_qsl(split.query, keep_blank_values=True)
        born = api.generation
        decision = api.faults.on_request(method, api_path)
        if decision.delay:
            time.sleep(decision.delay)
        if decision.drop or api.generation != born:  # a reset came while it waited: gone
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        params = {**decode_body_safe(body, self.headers.get("Content-Type", "")), **dict(query)}
        if decision.error_status:
            phrase = HTTPStatus(decision.error_status).phrase
            error = PveError(decision.error_status, f"{phrase} (simulated fault)\n")
            self.send_error_response(error)
            api.record(method, api_path, params, error.status)
            return
        if not path.startswith(API_PREFIX + "/"):
            error = PveError(501, f"Method '{method} {path}' not implemented")
            self.send_error_response(error)
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            data = api.dispatch(
                method, api_path, headers, query, body, self.headers.get("Content-Type", "")
            )
        except PveError as error:
            api.record(method, api_path, params, error.status)
            if self.answer_late(decision):
                self.send_error_response(error)
            return
        api.record(method, api_path, params, 200)
        if self.answer_late(decision):
            self.send_json(200, "OK", {"data": data})

    def answer_late(self, decision: TransportDecision) -> bool:
        """The ``late_answers`` fault, once the request took effect: wait before answering,
        or close the connection without an answer (False: send nothing)."""
        if decision.drop_answer:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return False
        if decision.answer_delay:
            time.sleep(decision.answer_delay)
        return True

    def control(self, method: str, path: str, body: bytes) -> None:
        try:
            payload = json.loads(body) if body else None
            data = self.server.api.control(method, path, payload)
        except (ValueError, TypeError, KeyError) as exc:
            self.send_json(400, "Bad Request", {"error": str(exc)})
            return
        if data is NotImplemented:
            self.send_json(404, "Not Found", {"error": f"no control endpoint {method} {path}"})
            return
        self.send_json(200, "OK", {"data": data})

    def send_error_response(self, error: PveError) -> None:
        reason = error.message.split("\n", 1)[0].replace("\r", " ")
        if isinstance(error, ProxyError):
            self.send_json(error.status, reason, None)
            return
        if error.status == 401 and not error.message.startswith("authentication failure"):
            self.send_json(401, reason, None)
            return
        message = error.message if error.message.endswith("\n") else error.message + "\n"
        body: dict[str, Any] = {"data": None, "message": message}
        if error.errors:
            body["errors"] = error.errors
        self.send_json(error.status, reason, body)

    def send_json(self, status: int, reason: str, payload: Any) -> None:
        raw = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status, reason)
        if payload is not None:
            self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Cache-Control", "max-age=0")
        self.end_headers()
        self.wfile.write(raw)


def decode_body_safe(body: bytes, content_type: str) -> dict[str, Any]:
    try:
        return decode_body(body, content_type.startswith("application/json"))
    except PveError:
        return {}


def records_as_json(records: list[RequestRecord]) -> list[dict[str, Any]]:
    return [asdict(r) for r in records]


class PveHTTPServer(ThreadingHTTPServer):
    """One thread per connection; TLS handshakes happen in that thread, never in accept."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], api: Api, context: ssl.SSLContext) -> None:
        self.api = api
        self.context = context
        super().__init__(address, PveRequestHandler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(SOCKET_TIMEOUT)
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (ssl.SSLError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                tls.close()
