"""A throwaway certificate authority for loopback HTTPS servers.

Real clients (proxmoxer's https backend, requests) verify certificates. Instead of turning
verification off in tests we mint a CA per process with trustme and hand clients its PEM file,
so the code under test runs with the same TLS settings it uses against a real cluster.
"""

from __future__ import annotations

import atexit
import os
import shutil
import ssl
import tempfile

import trustme


class LoopbackTLS:
    """A CA plus a server certificate valid for ``127.0.0.1`` and ``localhost``."""

    def __init__(self) -> None:
        self._ca = trustme.CA()
        self._cert = self._ca.issue_cert("127.0.0.1", "localhost", "::1")
        self._dir = tempfile.mkdtemp(prefix="solti-tls-")
        self.ca_path = os.path.join(self._dir, "ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_path)
        atexit.register(self.cleanup)

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting the loopback certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(context)
        return context

    def certificate_pems(self) -> tuple[bytes, bytes]:
        """The CA's and the server's certificate (PEM): what a PVE node keeps as
        ``pve-root-ca.pem`` and ``pve-ssl.pem`` (``/nodes/{node}/certificates/info``)."""
        return self._ca.cert_pem.bytes(), self._cert.cert_chain_pems[0].bytes()

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting only this CA (for our own probes and tests)."""
        context = ssl.create_default_context(cafile=self.ca_path)
        return context

    def cleanup(self) -> None:
        """Remove the PEM file; called at interpreter exit."""
        shutil.rmtree(self._dir, ignore_errors=True)
