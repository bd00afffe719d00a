"""Guest firewall reads: the item paths of a VM's firewall, and a container's whole firewall.

pve-firewall ``src/PVE/API2/Firewall/VM.pm`` registers the same handlers for ``qemu`` (package
``PVE::API2::Firewall::VM``) and ``lxc`` (``PVE::API2::Firewall::CT``); none of them checks that
the guest exists or is of that kind: ``PVE/Firewall.pm`` ``load_vmfw_conf`` parses
``/etc/pve/firewall/<vmid>.fw`` and, the simulator writing none, gets the empty config
(no rules, aliases or ipsets, no options). So a container path for any VMID answers as the
VM's does (``unconfigured.py`` answers the VM's lists and options):

- ``VMBase`` ``index``: ``rules``, ``aliases``, ``ipset``, ``refs``, ``options``;
  ``get_options``: ``copy_opject_with_digest`` of no options (only ``digest``); ``refs``: no
  alias or ipset in cluster.fw, the (absent) SDN config or the guest's file; ``log``: the
  empty log's one line, as the VM's (``fresh_node.firewall_log``).
- ``Rules.pm`` ``get_rule``: "no rule at position <pos>" (500) once ``pos`` is past the list.
- ``Aliases.pm`` ``read_alias``: ``raise_param_exc({name => "no such alias"})`` (400).
- ``IPSet.pm`` ``get_ipset`` and ``read_ip``: ``VMIPset``/``CTIPset`` ``load_config`` dies
  "no such IPSet '<name>'" (500) before any entry is looked at.
"""

from __future__ import annotations

from typing import Any, NoReturn

from solti.sandbox.pve.api_errors import PveError, param_error
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers.fresh_node import NO_CONTENT
from solti.sandbox.pve.handlers.unconfigured import EMPTY_DIGEST

FIREWALL_INDEX = ["rules", "aliases", "ipset", "refs", "options"]


def _on_node(call: Call) -> None:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)


def index(call: Call) -> list[dict[str, str]]:
    return [{"name": name} for name in FIREWALL_INDEX]


def empty_list(call: Call) -> list[Any]:
    _on_node(call)
    return []


def options(call: Call) -> dict[str, str]:
    _on_node(call)
    return {"digest": EMPTY_DIGEST}


def log(call: Call) -> list[dict[str, Any]]:
    _on_node(call)
    return [dict(line) for line in NO_CONTENT]


def rule(call: Call) -> NoReturn:
    _on_node(call)
    raise PveError(500, f"no rule at position {call.params['pos']}\n")


def alias(call: Call) -> NoReturn:
    _on_node(call)
    raise param_error({"name": "no such alias"})


def ipset(call: Call) -> NoReturn:
    _on_node(call)
    raise PveError(500, f"no such IPSet '{call.params['name']}'\n")


def _items(base: str) -> dict[str, Handler]:
    return {
        f"{base}/rules/{{pos}}": rule,
        f"{base}/aliases/{{name}}": alias,
        f"{base}/ipset/{{name}}": ipset,
        f"{base}/ipset/{{name}}/{{cidr}}": ipset,
    }


CT = "/nodes/{node}/lxc/{vmid}/firewall"
GUEST_FIREWALL_READS: dict[str, Handler] = {
    **_items("/nodes/{node}/qemu/{vmid}/firewall"),
    **_items(CT),
    CT: index,
    f"{CT}/rules": empty_list,
    f"{CT}/aliases": empty_list,
    f"{CT}/ipset": empty_list,
    f"{CT}/refs": empty_list,
    f"{CT}/options": options,
    f"{CT}/log": log,
}
