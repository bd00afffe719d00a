"""``PveSimulator``: the Proxmox VE API on loopback HTTPS, with its control plane."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from solti.sandbox.pve.auth import Authenticator
from solti.sandbox.pve.clock import SwitchableClock
from solti.sandbox.pve.faults import Faults
from solti.sandbox.pve.handlers.certificate_reads import fingerprint
from solti.sandbox.pve.http import Api, PveHTTPServer, RequestRecord, records_as_json
from solti.sandbox.pve.state import Cluster
from solti.sandbox.tls import LoopbackTLS


class PveSimulator:
    """A simulated PVE 9.1 cluster; ``start()`` returns once it accepts connections."""

    def __init__(
        self,
        nodes: int = 1,
        shared_storage: bool = False,
        *,
        node_memory: Mapping[str, int] | None = None,
        storage_nodes: Mapping[str, list[str]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: LoopbackTLS | None = None,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._tls = tls or LoopbackTLS()
        self.clock = SwitchableClock()
        self.faults = Faults(
            hold_lock=self._hold_lock,
            token_acl=self._token_acl,
            hold_file_lock=self._hold_file_lock,
            node_power=self._node_power,
        )
        self.state = Cluster(
            nodes,
            shared_storage,
            policy=self.faults,
            node_memory=node_memory,
            storage_nodes=storage_nodes,
        )
        self.state.advance(self.clock.time())
        self.state.certificate_pems = self._tls.certificate_pems()
        # Every simulated node answers with the one certificate this server presents.
        self.state.nodes.ssl_fingerprint = fingerprint(self.state.certificate_pems[1])
        self._auth = Authenticator(self.clock)
        self._api = Api(self.state, self._auth, self.faults, self.clock.time, self._control)
        self._server: PveHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> PveSimulator:
        if self._server is not None:
            return self
        server = PveHTTPServer(
            (self.host, self._requested_port), self._api, self._tls.server_context()
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"pve-sim-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> PveSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Empty cluster, no faults, empty request log, real time."""
        self.faults.clear()
        self.clock.unfreeze()
        self.state.reset()
        self.state.advance(self.clock.time())
        self._api.clear_records()

    # -- facts for clients --------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("simulator not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def ca_path(self) -> str:
        return self._tls.ca_path

    @property
    def token_id(self) -> str:
        return self._auth.token_id

    @property
    def token_secret(self) -> str:
        return self._auth.token_secret

    @property
    def password(self) -> str:
        return self._auth.password

    @property
    def requests(self) -> list[RequestRecord]:
        """Every API request seen since the last reset (``/_sim/*`` excluded)."""
        return self._api.snapshot()

    def client(self, **kw: Any) -> Any:
        """A real proxmoxer client (https backend, token auth, our CA)."""
        from proxmoxer import ProxmoxAPI

        user, _, token_name = self.token_id.partition("!")
        options: dict[str, Any] = {
            "port": self.port,
            "user": user,
            "token_name": token_name,
            "token_value": self.token_secret,
            "verify_ssl": self.ca_path,
            "backend": "https",
            "timeout": 5,
        }
        options.update(kw)
        return ProxmoxAPI(self.host, **options)

    def advance(self, seconds: float) -> None:
        """Move simulated time forward (finishes tasks whose duration has passed)."""
        self.clock.advance(seconds)
        with self.state.mutex:
            self.state.advance(self.clock.time())

    # -- internals ----------------------------------------------------------------------
    def _hold_lock(self, vmid: int, lock: str, seconds: float) -> None:
        with self.state.mutex:
            self.state.advance(self.clock.time())
            self.state.hold_lock(vmid, lock, seconds)

    def _hold_file_lock(self, vmid: int, seconds: float) -> None:
        with self.state.mutex:
            self.state.advance(self.clock.time())
            self.state.guests.hold_file_lock(vmid, seconds)

    def _node_power(self, node: str | None, online: bool) -> None:
        with self.state.mutex:
            self.state.advance(self.clock.time())
            if node is None:
                self.state.all_nodes_online()
            elif online:
                self.state.node_online(node)
            else:
                self.state.node_offline(node)

    def node_offline(self, node: str) -> None:
        """Take ``node`` down (the ``node_offline`` fault)."""
        self.faults.node_offline(node)

    def node_online(self, node: str) -> None:
        """Bring ``node`` back (the ``node_online`` fault)."""
        self.faults.node_online(node)

    def restrict_storage(self, storage: str, nodes: list[str] | None) -> None:
        """storage.cfg ``nodes`` of ``storage`` until the next reset (None: every node)."""
        self.state.restrict_storage(storage, nodes)

    def _token_acl(self, acl: dict[str, Any]) -> None:
        with self.state.mutex:
            self.state.access.replace_acl(acl)

    def _control(self, method: str, path: str, payload: Any) -> Any:
        """The ``/_sim/*`` control plane (plain JSON, no PVE envelope rules)."""
        if (method, path) == ("POST", "/_sim/reset"):
            self.reset()
            return None
        if (method, path) == ("POST", "/_sim/faults"):
            for spec in payload if isinstance(payload, list) else [payload or {}]:
                self.faults.apply(spec)
            return None
        if (method, path) == ("POST", "/_sim/storage"):
            payload = payload or {}
            if not isinstance(payload.get("storage"), str):
                raise ValueError('expected {"storage": ID, "nodes": [NODE, ...] or null}')
            nodes = payload.get("nodes")
            if nodes is not None and not (
                isinstance(nodes, list) and all(isinstance(n, str) for n in nodes)
            ):
                raise ValueError("'nodes' must be a list of node names or null (every node)")
            self.restrict_storage(payload["storage"], nodes)
            return None
        if (method, path) == ("GET", "/_sim/requests"):
            return records_as_json(self.requests)
        if (method, path) == ("POST", "/_sim/clock"):
            payload = payload or {}
            if payload.get("freeze"):
                self.clock.freeze()
            if payload.get("advance"):
                self.advance(float(payload["advance"]))
            return {"time": self.clock.time()}
        return NotImplemented
