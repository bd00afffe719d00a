"""The websocket endpoints of guests, as a plain GET (no ``Upgrade`` header) reaches them.

pve-http-server ``src/PVE/APIServer/AnyEvent.pm`` ``handle_api2_request`` runs the handler as
any other API call and only proxies a websocket when the request asked for the upgrade; the
handler's checks decide the answer. The simulator hands out no VNC or tunnel tickets (it has
no ``vncproxy`` or ``mtunnel``), so no ticket it is shown can verify:

- qemu-server ``src/PVE/API2/Qemu.pm`` ``vncwebsocket``: ``verify_vnc_ticket`` first, then
  ``load_config``; pve-container ``src/PVE/API2/LXC.pm`` ``vncwebsocket``: the ticket only.
- ``Qemu.pm`` and ``LXC.pm`` ``mtunnelwebsocket``: the node must be ``localhost`` or the local
  node (``raise_param_exc``), the guest's config must load, then ``verify_tunnel_ticket``.
- pve-access-control ``src/PVE/AccessControl.pm`` ``$verify_short_lived_ticket`` and pve-common
  ``src/PVE/Ticket.pm`` ``verify_rsa_ticket``: a ticket that does not verify raises
  "permission denied - invalid <PVEVNC|PVETUNNEL> ticket" with code 401.
"""

from __future__ import annotations

from typing import NoReturn

from solti.sandbox.pve.api_errors import PveError, param_error
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers.lxc_absent_reads import no_container


def invalid_ticket(prefix: str) -> PveError:
    return PveError(401, f"permission denied - invalid {prefix} ticket\n")


def _on_node(call: Call) -> None:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)


def qemu_vnc(call: Call) -> NoReturn:
    _on_node(call)
    raise invalid_ticket("PVEVNC")


def lxc_vnc(call: Call) -> NoReturn:
    _on_node(call)
    raise invalid_ticket("PVEVNC")


def _local_node(call: Call) -> None:
    """``mtunnelwebsocket`` has no ``proxyto``: the answering node must be the one named."""
    with call.cluster() as cluster:
        local = cluster.nodes.local()
    if call.node not in ("localhost", local):
        raise param_error({"node": f"node needs to be 'localhost' or local hostname '{local}'"})


def qemu_tunnel(call: Call) -> NoReturn:
    _local_node(call)
    with call.cluster() as cluster:
        cluster.guests.on(call.node, call.vmid)
    raise invalid_ticket("PVETUNNEL")


def lxc_tunnel(call: Call) -> NoReturn:
    _local_node(call)
    raise no_container(call.node, call.vmid)


CONSOLE_SOCKET_READS: dict[str, Handler] = {
    "/nodes/{node}/qemu/{vmid}/vncwebsocket": qemu_vnc,
    "/nodes/{node}/lxc/{vmid}/vncwebsocket": lxc_vnc,
    "/nodes/{node}/qemu/{vmid}/mtunnelwebsocket": qemu_tunnel,
    "/nodes/{node}/lxc/{vmid}/mtunnelwebsocket": lxc_tunnel,
}
