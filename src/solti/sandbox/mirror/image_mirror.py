"""The upstream image mirror: plain HTTP on loopback, serving every catalog distribution.

Template builds, update detection and the simulator's ``download-url`` all fetch from here
instead of the Internet. Tests publish a "new upstream image" with ``publish_new_image`` and
read ``requests`` to prove a download was (or was not) made. Every file carries the
``Last-Modified`` of the build that wrote it, as upstream's do: it is how a reader learns the
build date of Debian's and Ubuntu's undated ``latest`` images. ``ImageMirror(last_modified=
False)`` plays a server (or proxy) that does not send it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from solti.sandbox.mirror.layouts import LAYOUTS, Build, Layout, Served, Variant, render_files
from solti.sandbox.mirror.qcow2 import build_image

__all__ = ["ImageMirror", "MirrorRequest"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MirrorRequest:
    """One request the mirror answered (``status`` 200 or 404)."""

    method: str
    path: str
    status: int


class _Handler(BaseHTTPRequestHandler):
    server: _MirrorHTTPServer
    protocol_version = "HTTP/1.1"
    # Buffered (flushed once per request by ``handle_one_request``) so headers and body leave
    # in one segment; two small writes on a keep-alive connection cost ~40 ms each (Nagle's
    # algorithm against the client's delayed ACK).
    wbufsize = 64 * 1024

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, *, body: bool) -> None:
        path = self.path.split("?", 1)[0]
        mirror = self.server.mirror
        served = mirror._lookup(path)
        status = HTTPStatus.OK if served is not None else HTTPStatus.NOT_FOUND
        mirror._record(MirrorRequest(self.command, path, status))
        data = served.data if served is not None else f"404 Not Found: {path}\n".encode()
        content_type = (
            "application/octet-stream" if path.endswith((".qcow2", ".img")) else "text/plain"
        )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if served is not None and mirror.last_modified:
            self.send_header("Last-Modified", format_datetime(served.build.published, usegmt=True))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("mirror: " + format, *args)


class _MirrorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], mirror: ImageMirror) -> None:
        super().__init__(address, _Handler)
        self.mirror = mirror


class ImageMirror:
    """Serves small valid qcow2 images and checksum files in each upstream's format.

    Paths mirror upstream (``/rocky/9/images/x86_64/...``, ``/debian/bookworm/latest/...``,
    ``/ubuntu/noble/current/...``); ``catalog_overrides()`` points a policy file at them.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, last_modified: bool = True
    ) -> None:
        self._host = host
        self._port = port
        self._last_modified_default = last_modified
        self.last_modified = last_modified  # send ``Last-Modified``; False plays a server without
        self._lock = threading.Lock()
        self._server: _MirrorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._images: dict[tuple[str, str, str], bytes] = {}
        self._builds: dict[str, list[Build]] = {}
        self._files: dict[str, Served] = {}
        self._requests: list[MirrorRequest] = []
        self.reset()

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> ImageMirror:
        """Bind and serve in a background thread; returns once connections are accepted."""
        if self._server is not None:
            return self
        self._server = _MirrorHTTPServer((self._host, self._port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="image-mirror", daemon=True
        )
        self._thread.start()
        log.info("image mirror serving on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def reset(self) -> None:
        """Back to the first build of every distribution, with no requests recorded.

        ``last_modified`` returns to the constructor's choice, so a test that turned the header
        off does not leak that into the next one sharing this mirror.
        """
        with self._lock:
            self.last_modified = self._last_modified_default
            self._builds = {name: [layout.first_build] for name, layout in LAYOUTS.items()}
            self._requests.clear()
            self._rebuild_all()

    def __enter__(self) -> ImageMirror:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- facts ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash); only valid after ``start()``."""
        if self._server is None:
            raise RuntimeError("the image mirror is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def distributions(self) -> list[str]:
        return list(LAYOUTS)

    @property
    def requests(self) -> list[MirrorRequest]:
        """A copy of every request answered so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def downloads(self, distribution: str | None = None) -> list[MirrorRequest]:
        """Successful GETs of image files (not checksum files), optionally for one distro."""
        prefix = LAYOUTS[distribution].directory.rsplit("/", 1)[0] if distribution else "/"
        return [
            r
            for r in self.requests
            if r.method == "GET"
            and r.status == HTTPStatus.OK
            and r.path.startswith(prefix)
            and r.path.endswith((".qcow2", ".img"))
        ]

    def layout(self, distribution: str) -> Layout:
        return self._layout(distribution)

    def image_url(self, distribution: str) -> str:
        return self.url + self._layout(distribution).latest_path()

    def checksum_url(self, distribution: str) -> str:
        return self.url + self._layout(distribution).checksum_path()

    def image_bytes(self, distribution: str) -> bytes:
        """The current ``latest`` image of a distribution, as served."""
        with self._lock:
            return self._files[self._layout(distribution).latest_path()].data

    def catalog_overrides(self) -> dict[str, dict[str, str]]:
        """The policy file's ``distributions:`` mapping pointing every entry at this mirror."""
        return {
            name: {
                "image_url": self.image_url(name),
                "checksum_url": self.checksum_url(name),
                "checksum_algorithm": layout.algorithm,
            }
            for name, layout in LAYOUTS.items()
        }

    def current_version(self, distribution: str) -> str:
        """The upstream version of ``latest`` (the dated name or directory it equals)."""
        layout = self._layout(distribution)
        with self._lock:
            return layout.version(self._builds[distribution][-1])

    def published(self, distribution: str) -> datetime:
        """When ``latest`` was written: the ``Last-Modified`` its files are served with."""
        self._layout(distribution)
        with self._lock:
            return self._builds[distribution][-1].published

    # --- changes -------------------------------------------------------------------------------

    def publish_new_image(self, distribution: str) -> str:
        """A new dated build becomes ``latest`` (new bytes, hash, Last-Modified); its version."""
        layout = self._layout(distribution)
        with self._lock:
            builds = self._builds[distribution]
            builds.append(builds[-1].next())
            self._rebuild(layout)
            version = layout.version(builds[-1])
        log.info("image mirror: %s published %s", distribution, version)
        return version

    # --- internals -----------------------------------------------------------------------------

    def _layout(self, distribution: str) -> Layout:
        try:
            return LAYOUTS[distribution]
        except KeyError:
            known = ", ".join(LAYOUTS)
            raise KeyError(f"unknown distribution {distribution!r}; known: {known}") from None

    def _image(self, layout: Layout, variant: Variant, version: str) -> bytes:
        key = (layout.distribution, variant.latest, version)
        if key not in self._images:
            seed = f"{layout.distribution}/{variant.latest}/{version}"
            self._images[key] = build_image(layout.virtual_size, seed)
        return self._images[key]

    def _rebuild(self, layout: Layout) -> None:
        """Replace one distribution's files (caller holds the lock)."""
        tree = render_files(
            layout,
            self._builds[layout.distribution],
            lambda variant, version: self._image(layout, variant, version),
        )
        roots = {layout.directory}
        if layout.dated_directory:
            roots.add(layout.dated_directory.split("{", 1)[0].rstrip("/"))
        files = {
            path: data
            for path, data in self._files.items()
            if not any(path.startswith(root + "/") for root in roots)
        }
        files.update(tree)
        self._files = files

    def _rebuild_all(self) -> None:
        self._files = {}
        for layout in LAYOUTS.values():
            self._rebuild(layout)

    def _lookup(self, path: str) -> Served | None:
        with self._lock:
            return self._files.get(path)

    def _record(self, request: MirrorRequest) -> None:
        with self._lock:
            self._requests.append(request)
