"""Reads that ask another server: storage scans, URL metadata, OCI tags.

The simulated nodes reach nothing but each other and the machine's loopback, and no NFS,
SMB, iSCSI, PBS or OCI server runs there; each answer is the error (or empty list) the
handler gives when the server cannot be resolved or does not answer. Names resolve as the
nodes' ``/etc/hosts`` lets them (``node_reads.hosts_file``): an address, ``localhost``, a
cluster node by short or full name; nothing else (the simulated LAN has no DNS server).

- pve-storage ``PVE/API2/Storage/Scan.pm`` ``nfsscan`` → ``Storage.pm`` ``scan_nfs``: dies
  "unable to resolve address for server '<server>'", else runs ``showmount``, which fails
  where no mountd answers: ``run_command``'s "command '...' failed: exit code 1".
- ``cifsscan`` → ``scan_cifs``: the same resolution check; ``smbclient``'s stderr (the
  connection refused, no SMB server) becomes the error when no share was listed.
- ``iscsiscan`` → ``scan_iscsi``: ``resolv_portal`` raises a parameter error for a portal it
  cannot resolve; ``iscsi_discovery`` skips a portal ``iscsi_test_portal`` cannot reach, so
  an empty list.
- ``pbsscan`` → ``PBSPlugin::scan_datastores``: the login of pve-apiclient
  ``PVE/APIClient/LWP.pm`` fails with LWP's status line, wrapped as "error fetching
  datastores - ...".
- pve-manager ``PVE/API2/Nodes.pm`` ``query_url_metadata``: a ``HEAD`` request; any answer
  but 200 dies "invalid server response: '<status line>'". Loopback URLs are really asked
  (as ``download-url`` fetches them, ``handlers/storage.py``).
- ``query_oci_repo_tags``: ``skopeo`` (a Recommends of pve-manager, so installed) runs
  ``list-tags``, which cannot reach any registry: "command '...' failed: exit code 1".
"""

from __future__ import annotations

import ipaddress
import ssl
import urllib.error
import urllib.request
from typing import Any, NoReturn
from urllib.parse import urlsplit

from solti.sandbox.pve.api_errors import PveError, param_error
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers.node_reads import DOMAIN
from solti.sandbox.pve.handlers.storage import FETCH_TIMEOUT, is_loopback

NAME_UNKNOWN = "Name or service not known"
REFUSED = "Connection refused"
PBS_PORT = 8007


def resolve(call: Call, server: str) -> str | None:
    """The address ``server`` resolves to on a simulated node, or None."""
    host = server.strip("[]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host in ("localhost", "localhost.localdomain"):
        return "127.0.0.1"
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        for node in cluster.nodes.names:
            if host in (node, f"{node}.{DOMAIN}"):
                return cluster.nodes.address(node)
    return None


def _require_node(call: Call) -> None:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)


def _server_address(call: Call) -> str:
    """``scan_nfs``'s and ``scan_cifs``'s first step: the ``server`` parameter resolved."""
    server = call.params["server"]
    address = resolve(call, server)
    if address is None:
        raise PveError(500, f"unable to resolve address for server '{server}'\n")
    return address


def scan_nfs(call: Call) -> NoReturn:
    address = _server_address(call)
    raise PveError(
        500, f"command '/sbin/showmount --no-headers --exports {address}' failed: exit code 1\n"
    )


def scan_cifs(call: Call) -> NoReturn:
    address = _server_address(call)
    raise PveError(
        500, f"do_connect: Connection to {address} failed (Error NT_STATUS_CONNECTION_REFUSED)\n"
    )


def scan_iscsi(call: Call) -> list[Any]:
    portal = call.params["portal"]
    host = portal.rsplit(":", 1)[0] if portal.count(":") == 1 else portal
    if resolve(call, host) is None:
        raise param_error({"portal": f"unable to resolve portal address '{portal}'"})
    return []


def scan_pbs(call: Call) -> NoReturn:
    server = call.params["server"]
    port = int(call.params.get("port") or PBS_PORT)
    why = REFUSED if resolve(call, server) is not None else NAME_UNKNOWN
    raise PveError(
        500, f"error fetching datastores - 500 Can't connect to {server}:{port} ({why})\n"
    )


def head(url: str, verify: bool) -> tuple[int, str, dict[str, str]]:
    """``HEAD url`` (loopback only): status code, LWP-style status line, headers."""
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "Proxmox VE"})
    split = urlsplit(url)
    where = f"{split.hostname}:{split.port or (443 if split.scheme == 'https' else 80)}"
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT, context=context) as answer:
            return answer.status, f"{answer.status} {answer.reason}", dict(answer.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, f"{exc.code} {exc.reason}", {}
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        why = REFUSED if isinstance(reason, ConnectionRefusedError) else str(reason)
        return 500, f"500 Can't connect to {where} ({why})", {}


def url_metadata(call: Call) -> dict[str, Any]:
    _require_node(call)
    url = call.params["url"]
    split = urlsplit(url)
    host = split.hostname or ""
    if is_loopback(host):
        status, line, headers = head(url, call.params.get("verify-certificates", 1) in (1, "1"))
    else:
        port = split.port or (443 if split.scheme == "https" else 80)
        why = REFUSED if resolve(call, host) is not None else NAME_UNKNOWN
        status, line, headers = 500, f"500 Can't connect to {host}:{port} ({why})", {}
    if status != 200:
        raise PveError(500, f"invalid server response: '{line}'\n")
    return metadata(url, headers)


def metadata(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """``filename`` from Content-Disposition or the URL's last path part, ``size`` from
    Content-Length, ``mimetype`` from Content-Type without its parameters."""
    lower = {k.lower(): v for k, v in headers.items()}
    out: dict[str, Any] = {}
    disposition = lower.get("content-disposition", "")
    filename = None
    if "filename=" in disposition:
        filename = disposition.split("filename=", 1)[1].split(";", 1)[0].strip('"')
    else:
        path = url.split("?", 1)[0]
        if "/" in path.split("://", 1)[-1]:
            filename = path.rsplit("/", 1)[1]
    if filename:
        out["filename"] = filename
    if lower.get("content-length", "0").isdigit() and int(lower.get("content-length", "0")):
        out["size"] = int(lower["content-length"])
    if lower.get("content-type"):
        out["mimetype"] = lower["content-type"].split(";", 1)[0]
    return out


def oci_tags(call: Call) -> NoReturn:
    _require_node(call)
    reference = call.params["reference"]
    raise PveError(500, f"command 'skopeo list-tags docker://{reference}' failed: exit code 1\n")


REMOTE_SCAN_READS: dict[str, Handler] = {
    "/nodes/{node}/scan/nfs": scan_nfs,
    "/nodes/{node}/scan/cifs": scan_cifs,
    "/nodes/{node}/scan/iscsi": scan_iscsi,
    "/nodes/{node}/scan/pbs": scan_pbs,
    "/nodes/{node}/query-url-metadata": url_metadata,
    "/nodes/{node}/query-oci-repo-tags": oci_tags,
}
