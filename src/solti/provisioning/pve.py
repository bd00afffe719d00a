"""The one place that talks to Proxmox VE: named calls over proxmoxer, errors translated once.

Everything else in ``provisioning`` sees ``PveClient`` methods (``clone``, ``resize``...) and
our error tree; nobody else imports proxmoxer. Wire facts survive the translation: the HTTP
status, PVE's message (which PVE puts in the HTTP *reason phrase*, so proxmoxer reports it as
``content``) and the per-parameter ``errors`` map.

Thread safety: a ``requests`` session is not meant to be shared by threads, and the Slack bot
calls us from worker threads, so every thread gets its own ``ProxmoxAPI`` (token auth makes no
request when one is built).

Config writes: ``set_config`` uses the *synchronous* ``PUT .../config``. It returns ``null`` on
success and fails the HTTP call itself, so setting cloud-init values, tags, notes, cores or
memory on a stopped VM costs one request and no task polling. The asynchronous ``POST`` (a
``qmconfig`` task) is only worth it for hotplug or storage allocation, which our flows do at
create time instead; ``set_config_async`` exists for those cases.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from proxmoxer import ProxmoxAPI, ResourceException
from proxmoxer.core import AuthenticationError

from solti.provisioning.errors import ProxmoxError, Unreachable
from solti.provisioning.pve_errors import (
    MaybeApplied,
    TokenRejected,
    VmidTaken,
    VmLocked,
    VmMissing,
    classify,
    errors_map,
    token_rejected_message,
)

__all__ = [
    "MaybeApplied",
    "PveClient",
    "TokenRejected",
    "VmLocked",
    "VmMissing",
    "VmidTaken",
    "pve_bool",
]

log = logging.getLogger("solti.provisioning.pve")
DEFAULT_TIMEOUT = 10.0
# Pauses before the retries of a request that failed without side effect (bounded backoff).
RETRY_DELAYS = (0.2, 0.5, 1.0)
_TRANSIENT = {500, 502, 503, 504}


def pve_bool(value: bool) -> int:
    """PVE rejects a form value ``True``; booleans travel as 0/1."""
    return 1 if value else 0


def _wire(params: Mapping[str, Any]) -> dict[str, Any]:
    """Drop ``None`` and turn booleans into 0/1 so no call can send ``True``."""
    return {
        k: (pve_bool(v) if isinstance(v, bool) else v) for k, v in params.items() if v is not None
    }


def _retry_reason(method: str, path: str, exc: Exception) -> str | None:
    """Why ``exc`` may be retried safely (None: it may not).

    A lock PVE could not take (``got timeout``) changed nothing, whatever the method; a GET has
    no side effect, so a dropped connection, a timeout or a 5xx is worth another try.
    """
    if isinstance(exc, ProxmoxError) and "got timeout" in exc.reason and "lock" in exc.reason:
        return "lock wait timed out"
    if method.upper() != "GET":
        return None
    if isinstance(exc, requests.exceptions.SSLError):
        return None
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"connection failed ({type(exc.__context__ or exc).__name__})"
    # The guest agent answers 500 until it runs; ``addresses`` polls it on its own schedule.
    if type(exc) is ProxmoxError and exc.status in _TRANSIENT and "/agent/" not in path:
        return f"HTTP {exc.status}"
    return None


def _never_sent(exc: requests.exceptions.RequestException) -> bool:
    """A connection that was never made (refused, no route): the request cannot have acted."""
    return isinstance(exc, requests.exceptions.ConnectTimeout) or "NewConnectionError" in repr(exc)


class PveClient:
    """Named Proxmox VE calls; returns plain data, raises the provisioning error tree."""

    def __init__(
        self,
        factory: Callable[[], Any],
        *,
        where: str = "Proxmox VE",
        token_id: str | None = None,
    ) -> None:
        """``factory`` builds one ready ``ProxmoxAPI``; it is called once per thread.

        ``token_id`` only serves error messages (a 401 names the token to fix).
        """
        self._factory = factory
        self._local = threading.local()
        self.where = where
        self.token_id = token_id
        self.sleep: Callable[[float], None] = time.sleep

    @classmethod
    def connect(
        cls,
        url: str,
        token_id: str,
        token_secret: str,
        *,
        verify: bool | str = True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> PveClient:
        """A client for ``https://host:port`` with an API token ``user@realm!name``."""
        parts = urlsplit(url if "://" in url else f"https://{url}")
        host = parts.hostname or ""
        port = parts.port or 8006
        user, _, token_name = token_id.partition("!")

        def factory() -> Any:
            return ProxmoxAPI(
                host,
                port=port,
                user=user,
                token_name=token_name,
                token_value=token_secret,
                verify_ssl=verify,
                backend="https",
                service="PVE",
                timeout=timeout,
            )

        return cls(factory, where=f"{host}:{port}", token_id=token_id)

    @classmethod
    def from_settings(cls, settings: Any, *, timeout: float = DEFAULT_TIMEOUT) -> PveClient:
        """Build from ``config.ProxmoxSettings`` (the CA bundle wins over the verify flag)."""
        secret = settings.token_secret
        secret = secret.get_secret_value() if hasattr(secret, "get_secret_value") else secret
        verify: bool | str = bool(getattr(settings, "verify_ssl", True))
        ca_bundle = getattr(settings, "ca_bundle", None)
        if verify and ca_bundle:
            verify = str(ca_bundle)
        return cls.connect(
            str(settings.url), settings.token_id, secret, verify=verify, timeout=timeout
        )

    # --- plumbing ---------------------------------------------------------------------------

    def _api(self) -> Any:
        api = getattr(self._local, "api", None)
        if api is None:
            api = self._factory()
            self._local.api = api
        return api

    def request(self, method: str, path: str, **params: Any) -> Any:
        """One API call, retried with backoff while that is safe (``_retry_reason``); every
        retry is logged with its reason. A change request that may have acted raises
        ``MaybeApplied``."""
        for attempt, delay in enumerate((*RETRY_DELAYS, None), start=1):
            try:
                return self._request_once(method, path, params)
            except (ProxmoxError, requests.exceptions.RequestException) as exc:
                reason = _retry_reason(method, path, exc)
                if reason is None or delay is None:
                    raise self._translate(method, path, exc) from None
                log.warning(
                    "retrying %s /%s in %.1f s (attempt %d of %d): %s",
                    method, path, delay, attempt + 1, len(RETRY_DELAYS) + 1, reason,
                )  # fmt: skip
                self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _translate(self, method: str, path: str, exc: Exception) -> ProxmoxError:
        if isinstance(exc, ProxmoxError):
            return exc
        if isinstance(exc, requests.exceptions.SSLError):
            return Unreachable(
                f"TLS verification with {self.where} failed; set PROXMOX_CA_BUNDLE to the CA "
                "that signed its certificate (or PROXMOX_VERIFY_SSL=false for a lab)"
            )
        lost = isinstance(exc, requests.exceptions.Timeout | requests.exceptions.ConnectionError)
        if method.upper() != "GET" and lost and not _never_sent(exc):  # type: ignore[arg-type]
            return MaybeApplied(
                f"{self.where} did not answer {method} /{path} "
                f"({type(exc).__name__}); it may have taken effect"
            )
        if isinstance(exc, requests.exceptions.Timeout):
            return Unreachable(f"{self.where} did not answer in time ({method} /{path})")
        if isinstance(exc, requests.exceptions.ConnectionError):
            reason = type(exc.__context__ or exc).__name__
            return Unreachable(
                f"cannot reach Proxmox VE at {self.where} ({reason}); check PROXMOX_URL and "
                "that the API is up"
            )
        return Unreachable(f"request to {self.where} failed: {type(exc).__name__}")

    def _request_once(self, method: str, path: str, params: dict[str, Any]) -> Any:
        """One try; PVE's refusals become our errors, transport failures pass through."""
        resource = self._api()(path.strip("/"))
        call = getattr(resource, method.lower())
        try:
            return call(**_wire(params))
        except ResourceException as exc:
            message = str(exc.content or exc.status_message or "").strip()
            if exc.status_code == 401:
                text = token_rejected_message(self.token_id, self.where, message)
                raise TokenRejected(text, status=401) from None
            raise classify(message, exc.status_code, errors_map(exc.errors)) from None
        except AuthenticationError:
            text = token_rejected_message(self.token_id, self.where)
            raise TokenRejected(text, status=401) from None

    # --- cluster ----------------------------------------------------------------------------

    def version(self) -> dict[str, Any]:
        return self.request("GET", "version")

    def nodes(self) -> list[dict[str, Any]]:
        return self.request("GET", "nodes") or []

    def cluster_vms(self) -> list[dict[str, Any]]:
        """ONE snapshot of every guest cluster-wide (qemu and lxc share the VMID space)."""
        return self.request("GET", "cluster/resources", type="vm") or []

    def cluster_resources(self) -> list[dict[str, Any]]:
        """ONE snapshot of guests, nodes and storages (no ``type`` filter): what a plan reads."""
        return self.request("GET", "cluster/resources") or []

    def vmid_free(self, vmid: int) -> bool:
        """``nextid?vmid=N``: only true at the time of the check."""
        try:
            self.request("GET", "cluster/nextid", vmid=vmid)
        except VmidTaken:
            return False
        return True

    def permissions(self) -> dict[str, Any]:
        return self.request("GET", "access/permissions") or {}

    def bridges(self, node: str) -> list[str]:
        """Names of the Linux and OVS bridges on ``node`` (what ``netN bridge=`` may name)."""
        rows = self.request("GET", f"nodes/{node}/network", type="any_bridge") or []
        return sorted(str(row["iface"]) for row in rows if row.get("iface"))

    def storages(self, node: str, content: str | None = None) -> list[dict[str, Any]]:
        return self.request("GET", f"nodes/{node}/storage", content=content) or []

    def storage_content(
        self, node: str, storage: str, content: str | None = None, vmid: int | None = None
    ) -> list[dict[str, Any]]:
        return (
            self.request(
                "GET", f"nodes/{node}/storage/{storage}/content", content=content, vmid=vmid
            )
            or []
        )

    def download_url(
        self,
        node: str,
        storage: str,
        *,
        url: str,
        filename: str,
        content: str = "import",
        checksum: str | None = None,
        algorithm: str | None = None,
    ) -> str:
        """Start a ``download`` task; with a checksum PVE verifies the bytes it fetched."""
        return self.request(
            "POST",
            f"nodes/{node}/storage/{storage}/download-url",
            url=url,
            filename=filename,
            content=content,
            checksum=checksum,
            **({"checksum-algorithm": algorithm} if algorithm else {}),
        )

    def node_tasks(
        self, node: str, *, vmid: int | None = None, active: bool = False
    ) -> list[dict[str, Any]] | None:
        """``GET /nodes/{node}/tasks`` (one VM's, or only running ones); None when the server
        does not offer the list (501), so callers fall back to the VM's config."""
        try:
            rows = self.request(
                "GET", f"nodes/{node}/tasks", vmid=vmid, source="active" if active else None
            )
        except ProxmoxError as exc:
            if exc.status == 501:
                return None
            raise
        return list(rows or [])

    def task_status(self, node: str, upid: str) -> dict[str, Any]:
        return self.request("GET", f"nodes/{node}/tasks/{upid}/status")

    # --- guests -----------------------------------------------------------------------------

    def node_vms(self, node: str) -> list[dict[str, Any]]:
        """Per-node list, read live from the configs (names of just-made VMs included)."""
        return self.request("GET", f"nodes/{node}/qemu") or []

    def vm_config(self, node: str, vmid: int) -> dict[str, Any]:
        return self.request("GET", f"nodes/{node}/qemu/{vmid}/config")

    def vm_status(self, node: str, vmid: int) -> dict[str, Any]:
        return self.request("GET", f"nodes/{node}/qemu/{vmid}/status/current")

    def create_qemu_vm(self, node: str, vmid: int, **params: Any) -> str:
        """``POST /nodes/{node}/qemu``: a new VM from parameters (template build), not a clone."""
        return self.request("POST", f"nodes/{node}/qemu", vmid=vmid, **params)

    def clone(
        self,
        node: str,
        vmid: int,
        newid: int,
        *,
        name: str | None = None,
        full: bool | None = None,
        storage: str | None = None,
        target: str | None = None,
        description: str | None = None,
    ) -> str:
        """Linked clone when ``full`` is false (templates only); storage only for full clones.

        A clone that got no answer is never sent again blindly: ``settle_clone`` (below) looks at
        what exists and answers the clone's task (or None once it ended), ``VmidTaken`` when
        the id is someone else's, or ``MaybeApplied`` saying it checked and nothing exists.
        """
        sent_at = time.time()
        try:
            return self.request(
                "POST",
                f"nodes/{node}/qemu/{vmid}/clone",
                newid=newid,
                name=name,
                full=full,
                storage=storage,
                target=target,
                description=description,
            )
        except MaybeApplied as exc:
            from solti.provisioning.clone_settle import settle_clone

            return settle_clone(self, target or node, newid, name=name, cause=exc, source=vmid,
                                task_node=node, sent_at=sent_at)  # fmt: skip

    def resize(self, node: str, vmid: int, disk: str, size: str) -> str | None:
        """Grow a disk; a UPID since PVE 8.0 (None from older, synchronous servers)."""
        return self.request("PUT", f"nodes/{node}/qemu/{vmid}/resize", disk=disk, size=size)

    def set_config(self, node: str, vmid: int, **params: Any) -> None:
        """Synchronous ``PUT .../config`` (see the module docstring for why)."""
        self.request("PUT", f"nodes/{node}/qemu/{vmid}/config", **params)

    def set_config_async(self, node: str, vmid: int, **params: Any) -> str | None:
        """``POST .../config``: a ``qmconfig`` task, for hotplug or storage allocation."""
        return self.request("POST", f"nodes/{node}/qemu/{vmid}/config", **params)

    def convert_to_template(self, node: str, vmid: int) -> str:
        return self.request("POST", f"nodes/{node}/qemu/{vmid}/template")

    def start(self, node: str, vmid: int) -> str:
        return self.request("POST", f"nodes/{node}/qemu/{vmid}/status/start")

    def stop(self, node: str, vmid: int) -> str:
        return self.request("POST", f"nodes/{node}/qemu/{vmid}/status/stop")

    def shutdown(self, node: str, vmid: int, timeout: int | None = None) -> str:
        return self.request("POST", f"nodes/{node}/qemu/{vmid}/status/shutdown", timeout=timeout)

    def delete_vm(self, node: str, vmid: int, *, purge: bool = True) -> str:
        """Destroy the VM and its disks, also unreferenced ones, and drop it from jobs/HA."""
        return self.request(
            "DELETE",
            f"nodes/{node}/qemu/{vmid}",
            purge=purge,
            **{"destroy-unreferenced-disks": True},
        )
