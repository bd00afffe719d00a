"""Where to reach a VM: its IP address, from the plan (static) or from the QEMU guest agent.

Why the agent: with DHCP only the guest knows its lease. PVE relays the agent's answer at
``GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces``, but the agent runs only once the
guest has booted (and only when the image ships qemu-guest-agent), so until then PVE answers 500
``QEMU guest agent is not running``; with ``agent`` off in the config it answers ``No QEMU guest
agent configured``, which will never change. So the lookup polls with backoff for a bounded
time and stops at once on answers that cannot improve (no agent, VM stopped or gone, no right
to ask). A static address from ``ipconfig0`` is known without asking anybody.

Everything except :func:`probe` and :func:`wait_for_address` (one API call per poll through
``PveClient.request``) is pure, so the parsing is tested without servers.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from solti.provisioning.errors import ProxmoxError, SoltiError
from solti.provisioning.pve import VmMissing

__all__ = [
    "AGENT_NOT_RUNNING",
    "NO_AGENT",
    "AddressLookup",
    "pick_address",
    "probe",
    "ssh_command",
    "static_address",
    "wait_for_address",
]

AGENT_NOT_RUNNING = "QEMU guest agent is not running"
NO_AGENT = "No QEMU guest agent configured"
AGENT_WAITING = "the QEMU guest agent is not running (yet)"
LOOPBACK_NAMES = ("lo", "loopback")
Outcome = Literal[
    "static", "agent", "waiting", "no-agent", "not-running", "gone", "denied", "timeout", "off"
]
# Outcomes that end the wait at once: asking again cannot give another answer.
FINAL = frozenset({"static", "agent", "no-agent", "not-running", "gone", "denied", "off"})


@dataclass(frozen=True)
class AddressLookup:
    """The result of looking for a VM's address; ``reason`` says why there is none."""

    address: str | None
    outcome: Outcome
    reason: str | None = None
    polls: int = 0  # agent calls made
    waited: float = 0.0  # seconds spent

    @property
    def found(self) -> bool:
        return self.address is not None


def static_address(ipconfig: str | None) -> str | None:
    """The address of a static ``ipconfig0`` (``ip=10.0.0.5/24,gw=...``; ``ip6=`` too).

    ``dhcp``, ``auto``, ``manual`` or nothing: None (only the guest knows it then).
    """
    found: dict[str, str] = {}
    for part in (ipconfig or "").split(","):
        key, _, value = part.strip().partition("=")
        if key in ("ip", "ip6") and "/" in value:
            try:
                found[key] = str(ipaddress.ip_interface(value).ip)
            except ValueError:
                continue
    return found.get("ip") or found.get("ip6")


def _usable(text: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address a person can ssh to from elsewhere: not loopback, link-local, multicast."""
    try:
        address = ipaddress.ip_address(str(text).split("%")[0])
    except ValueError:
        return None
    if (
        address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
    ):
        return None
    return address


def _interfaces(answer: Any) -> Iterable[dict[str, Any]]:
    """The interface list of an agent answer (``{"result": [...]}``, or the list itself)."""
    items = answer.get("result") if isinstance(answer, dict) else answer
    if not isinstance(items, list):
        return []
    return [i for i in items if isinstance(i, dict)]


def pick_address(answer: Any) -> str | None:
    """The VM's address from ``network-get-interfaces``: the first global IPv4 of a
    non-loopback interface, else the first global IPv6; None when there is none yet."""
    first_v6: str | None = None
    for interface in _interfaces(answer):
        name = str(interface.get("name", "")).lower()
        if name in LOOPBACK_NAMES or name.startswith("loopback"):
            continue
        entries = interface.get("ip-addresses")
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            address = _usable(entry.get("ip-address"))
            if address is None:
                continue
            if address.version == 4:
                return str(address)
            first_v6 = first_v6 or str(address)
    return first_v6


def ssh_command(user: str | None, address: str) -> str:
    """``ssh user@host`` (ssh takes an IPv6 literal after ``@`` without brackets)."""
    return f"ssh {user}@{address}" if user else f"ssh {address}"


def _classify(exc: SoltiError, vmid: int) -> tuple[Outcome, str]:
    """What an error of the agent call means for the wait, and the words for people."""
    text = str(getattr(exc, "reason", None) or exc)
    if isinstance(exc, VmMissing):
        return "gone", f"VM {vmid} no longer exists"
    if isinstance(exc, ProxmoxError) and exc.status == 403:
        return "denied", (
            "the API token may not read the guest agent (it needs VM.GuestAgent.Audit)"
        )
    if NO_AGENT in text:
        return "no-agent", "the VM has no QEMU guest agent configured (agent: 0)"
    if AGENT_NOT_RUNNING in text:
        return "waiting", AGENT_WAITING
    if f"VM {vmid} is not running" in text:
        return "not-running", f"VM {vmid} is not running"
    return "waiting", f"the guest agent could not be asked: {text}"


def agent_disabled(client: Any, node: str, vmid: int) -> bool:
    """Whether the VM's config turns the agent off (``agent: 0`` / ``enabled=0``).

    qemu-server ``QemuServer/Agent.pm`` ``assert_agent_available`` says "No QEMU guest agent
    configured" only when the ``agent`` key is absent; with ``agent: 0`` it answers "QEMU
    guest agent is not running", like an agent still booting, so only the config tells.
    """
    try:
        config = client.request("GET", f"nodes/{node}/qemu/{vmid}/config")
    except SoltiError:
        return False
    value = str((config or {}).get("agent", "")).strip()
    if not value:
        return False  # no ``agent`` key: PVE itself says "No QEMU guest agent configured"
    enabled = "0"  # the ``enabled`` default of qemu-server's agent format
    for index, part in enumerate(value.split(",")):
        key, equals, setting = part.partition("=")
        if not equals and index == 0:
            enabled = key  # the default key
        elif key == "enabled":
            enabled = setting
    return enabled.strip().lower() in ("0", "no", "off", "false")


def probe(client: Any, node: str, vmid: int) -> AddressLookup:
    """Ask the agent once; ``waiting`` when it may answer later."""
    try:
        answer = client.request("GET", f"nodes/{node}/qemu/{vmid}/agent/network-get-interfaces")
    except SoltiError as exc:
        outcome, reason = _classify(exc, vmid)
        return AddressLookup(None, outcome, reason, polls=1)
    address = pick_address(answer)
    if address is None:
        return AddressLookup(None, "waiting", "the guest agent reports no address yet", polls=1)
    return AddressLookup(address, "agent", polls=1)


def wait_for_address(
    client: Any,
    node: str,
    vmid: int,
    *,
    timeout: float,
    ipconfig: str | None = None,
    agentless_image: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    first_delay: float = 0.5,
    max_delay: float = 5.0,
    factor: float = 1.5,
) -> AddressLookup:
    """The VM's address within ``timeout`` seconds: static at once, else from the agent.

    Polls at once, then after ``first_delay`` growing by ``factor`` up to ``max_delay``; the
    last poll is at the deadline. ``timeout`` 0 does not ask the agent at all, nor does
    ``agentless_image`` (the distribution whose cloud image ships no qemu-guest-agent: asking
    would only burn the whole wait on "not running").
    """
    static = static_address(ipconfig)
    if static is not None:
        return AddressLookup(static, "static")
    if agentless_image:
        reason = (
            f"the {agentless_image} cloud image ships no QEMU guest agent, so Proxmox cannot "
            "report its DHCP address"
        )
        return AddressLookup(None, "no-agent", reason)
    if timeout <= 0:
        return AddressLookup(None, "off", "address lookup is off (address_wait_seconds: 0)")
    started = clock()
    deadline = started + timeout
    delay = first_delay
    polls = 0
    while True:
        result = probe(client, node, vmid)
        polls += 1
        if polls == 1 and result.reason == AGENT_WAITING and agent_disabled(client, node, vmid):
            reason = "the VM has no QEMU guest agent enabled (agent: 0 in its config)"
            return AddressLookup(None, "no-agent", reason, polls, clock() - started)
        if result.outcome in FINAL:
            return AddressLookup(
                result.address, result.outcome, result.reason, polls, clock() - started
            )
        remaining = deadline - clock()
        if remaining <= 0:
            waited = clock() - started
            reason = f"no address reported by the guest agent after {timeout:g} s"
            return AddressLookup(None, "timeout", reason, polls, waited)
        sleep(min(delay, remaining))
        delay = min(delay * factor, max_delay)
