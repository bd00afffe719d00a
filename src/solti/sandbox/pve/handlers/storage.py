"""Storage endpoints; download-url fetches its URL outside the model lock (loopback only)."""

from __future__ import annotations

import ipaddress
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from solti.sandbox.pve.handlers import Call

MAX_DOWNLOAD = 512 * 1024 * 1024
FETCH_TIMEOUT = 30


def storage_list(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        return cluster.storages.status(call.node, call.params)


def content(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        vmid = call.params.get("vmid")
        return cluster.storages.content(
            call.node,
            call.params["storage"],
            call.params.get("content"),
            int(vmid) if vmid is not None else None,
        )


def download_url(call: Call) -> str:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        plan = cluster.downloads.plan(call.node, call.params)
    data, error = None, None
    if plan.needs_fetch:
        data, error = fetch(call.params["url"], bool(call.params.get("verify-certificates", 1)))
    with call.cluster() as cluster:
        return cluster.downloads.start(plan, call.user, data, error)


def is_loopback(host: str | None) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def fetch(url: str, verify: bool) -> tuple[bytes | None, str | None]:
    """Fetch a loopback URL; the simulator never reaches outside the machine."""
    host = urlsplit(url).hostname
    if not is_loopback(host):
        return None, f"the simulator only downloads from loopback hosts, not '{host}'"
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT, context=context) as response:
            return response.read(MAX_DOWNLOAD), None
    except urllib.error.HTTPError as exc:
        return None, f"{exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))
