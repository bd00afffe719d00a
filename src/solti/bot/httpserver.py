"""A small WSGI server: one accept thread, a fixed pool of workers, one write per response.

Why not wsgiref: with 20 slash commands in flight on two cores, the acknowledgement budget is
a millisecond or two of CPU, and wsgiref spent most of it around the app: a new thread per
request, headers parsed with the ``email`` package, and five ``sendall`` calls per response.
This server parses the request line and headers by hand, reads the body by Content-Length,
and sends status, headers and body in one call. It speaks just what Slack and a health check
need: HTTP/1.0 and 1.1 requests with a Content-Length body (or none), ``Expect:
100-continue``, one request per connection (``Connection: close``). Anything else gets a
plain 4xx, and a slow or silent client is dropped after ``timeout`` seconds.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

__all__ = ["MAX_BODY", "PooledWsgiServer", "parse_head"]

log = logging.getLogger("solti.bot.httpserver")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_HEAD = 64 * 1024
MAX_BODY = 4 * 1024 * 1024  # a view_submission is at most ~250 kB; leave room, refuse floods


class BadRequest(Exception):
    """The request cannot be served; ``status`` is the answer."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    """``METHOD target HTTP/x.y`` and header lines -> (method, target, version, headers).

    Pure, so malformed input is tested without sockets. Header names are lower-cased;
    repeated headers are joined with ``, `` as RFC 9110 allows.
    """
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # latin-1 decodes every byte; kept for clarity
        raise BadRequest("400 Bad Request") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[0].isalpha():
        raise BadRequest("400 Bad Request")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest("400 Bad Request")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return parts[0].upper(), parts[1], parts[2], headers


def _environ(
    method: str, target: str, version: str, headers: dict[str, str], body: bytes, server: Any
) -> dict[str, Any]:
    path, _, query = target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(path, "latin-1"),
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": version,
        "SERVER_NAME": server.host,
        "SERVER_PORT": str(server.port),
        "CONTENT_TYPE": headers.get("content-type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        if name in ("content-type", "content-length"):
            continue
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


class PooledWsgiServer:
    """Serve ``app`` on ``host:port`` (0 = any free port) until ``stop()``."""

    def __init__(
        self,
        host: str,
        port: int,
        app: WsgiApp,
        *,
        workers: int = 32,
        backlog: int = 256,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.app = app
        self.timeout = timeout
        self._socket = socket.create_server((host, port), backlog=backlog, reuse_port=False)
        self._socket.settimeout(0.5)  # the accept loop looks at the stop flag this often
        self.port: int = self._socket.getsockname()[1]
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="solti-http")
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> PooledWsgiServer:
        self._running.set()
        self._thread = threading.Thread(target=self._accept, name="solti-accept", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._socket.close()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _accept(self) -> None:
        while self._running.is_set():
            try:
                conn, address = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._running.is_set():
                    log.warning("accept failed", exc_info=True)
                continue
            try:
                self._pool.submit(self._serve, conn, address)
            except RuntimeError:  # pool shut down while stopping
                conn.close()

    def _serve(self, conn: socket.socket, address: Any) -> None:
        try:
            conn.settimeout(self.timeout)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                response = self._respond(conn, address)
            except BadRequest as exc:
                response = _plain(exc.status)
            conn.sendall(response)
        except (OSError, TimeoutError):
            log.debug("connection from %s dropped", address)
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def _respond(self, conn: socket.socket, address: Any) -> bytes:
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            if len(buffer) > MAX_HEAD:
                raise BadRequest("431 Request Header Fields Too Large")
            chunk = conn.recv(65536)
            if not chunk:
                raise OSError("client closed before the end of the headers")
            buffer += chunk
        head, _, body = buffer.partition(b"\r\n\r\n")
        method, target, version, headers = parse_head(head)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise BadRequest("411 Length Required")
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            raise BadRequest("400 Bad Request") from None
        if length < 0:
            raise BadRequest("400 Bad Request")
        if length > MAX_BODY:
            raise BadRequest("413 Content Too Large")
        if length > len(body) and headers.get("expect", "").lower() == "100-continue":
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        while len(body) < length:
            chunk = conn.recv(min(65536, length - len(body)))
            if not chunk:
                raise OSError("client closed before the end of the body")
            body += chunk
        environ = _environ(method, target, version, headers, body[:length], self)
        environ["REMOTE_ADDR"] = str(address[0]) if isinstance(address, tuple) else ""
        return self._call_app(environ, head_only=method == "HEAD")

    def _call_app(self, environ: dict[str, Any], head_only: bool) -> bytes:
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [status, headers]
            return lambda data: None  # the legacy write() callable; our apps return bodies

        try:
            result = self.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            log.exception("the WSGI app failed")
            return _plain("500 Internal Server Error")
        if not started:
            return _plain("500 Internal Server Error")
        status, headers = started
        lines = [f"HTTP/1.1 {status}"]
        lines += [
            f"{name}: {value}"
            for name, value in headers
            if name.lower() not in ("content-length", "connection")
        ]
        lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        return "\r\n".join(lines).encode("latin-1") + (b"" if head_only else body)


def _plain(status: str) -> bytes:
    body = status.encode()
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
