"""A VM's address: the parsing table (pure), then the wait against the simulator's agent.

The waits run on the simulator's frozen clock: the lookup's ``sleep`` advances it (and the
lookup's own clock), so a 120 s wait takes no real time and the agent calls can be counted.
"""

from __future__ import annotations

from typing import Any

import pytest

from solti.provisioning.addresses import pick_address, ssh_command, static_address
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment


def _iface(name: str, *addresses: str) -> dict[str, Any]:
    entries = [
        {"ip-address-type": "ipv6" if ":" in a else "ipv4", "ip-address": a, "prefix": 24}
        for a in addresses
    ]
    return {"name": name, "hardware-address": "bc:24:11:00:00:01", "ip-addresses": entries}


LO = _iface("lo", "127.0.0.1", "::1")
PICK = [
    ("dhcp lease after loopback", {"result": [LO, _iface("eth0", "10.0.0.12")]}, "10.0.0.12"),
    ("a bare list", [LO, _iface("ens18", "192.0.2.5")], "192.0.2.5"),
    ("only loopback", {"result": [LO]}, None),
    ("169.254/16 is skipped", {"result": [_iface("eth0", "169.254.3.4", "10.1.2.3")]}, "10.1.2.3"),
    ("only link-local: not yet", {"result": [_iface("eth0", "169.254.3.4", "fe80::1")]}, None),
    (
        "IPv6 when there is no IPv4",
        {"result": [LO, _iface("eth0", "fe80::1", "2001:db8::5")]},
        "2001:db8::5",
    ),
    (
        "IPv4 wins over an earlier IPv6",
        {"result": [_iface("eth0", "2001:db8::5"), _iface("eth1", "10.0.0.9")]},
        "10.0.0.9",
    ),
    (
        "127/8 on another interface",
        {"result": [_iface("eth0", "127.0.1.1", "10.0.0.2")]},
        "10.0.0.2",
    ),
    (
        "Windows loopback by name",
        {
            "result": [
                _iface("Loopback Pseudo-Interface 1", "10.9.9.9"),
                _iface("Ethernet", "10.0.0.3"),
            ]
        },
        "10.0.0.3",
    ),
    (
        "interface without addresses",
        {"result": [{"name": "eth0"}, _iface("eth1", "10.0.0.4")]},
        "10.0.0.4",
    ),
    (
        "garbage entries",
        {"result": ["x", {"name": "eth0", "ip-addresses": [{"ip-address": "no"}, 7]}]},
        None,
    ),
    ("no result at all", {"error": {"class": "GenericError"}}, None),
    ("not a mapping", None, None),
    ("zone index on IPv6", {"result": [_iface("eth0", "2001:db8::7%eth0")]}, "2001:db8::7"),
]


@pytest.mark.parametrize(("case", "answer", "expected"), PICK, ids=[c[0] for c in PICK])
def test_pick_address(case: str, answer: Any, expected: str | None) -> None:
    assert pick_address(answer) == expected


@pytest.mark.parametrize(
    ("ipconfig", "expected"),
    [
        ("ip=10.0.0.5/24,gw=10.0.0.1", "10.0.0.5"),
        ("gw=10.0.0.1,ip=10.0.0.6/24", "10.0.0.6"),
        ("ip=dhcp", None),
        ("ip=dhcp,ip6=2001:db8::9/64", "2001:db8::9"),
        ("ip6=auto", None),
        ("ip=manual", None),
        ("ip=300.1.1.1/24", None),
        ("", None),
        (None, None),
    ],
)
def test_static_address(ipconfig: str | None, expected: str | None) -> None:
    assert static_address(ipconfig) == expected


def test_ssh_command() -> None:
    assert ssh_command("rocky", "10.0.0.12") == "ssh rocky@10.0.0.12"
    assert ssh_command("ubuntu", "2001:db8::5") == "ssh ubuntu@2001:db8::5"


# --- against the simulator ------------------------------------------------------------------


class SimTime:
    """One clock for the lookup and the simulator: sleeping advances both."""

    def __init__(self, world: SimEnvironment) -> None:
        self.world = world
        self.now = 0.0
        self.sleeps: list[float] = []
        world.pve.clock.freeze()

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.world.pve.advance(seconds)


@pytest.fixture
def sim_time(provisioner: Provisioner, world: SimEnvironment) -> SimTime:
    time = SimTime(world)
    provisioner.ops.sleep = time.sleep
    provisioner.monotonic = time.monotonic
    return time


def _agent_calls(world: SimEnvironment) -> int:
    return sum(1 for r in world.pve.requests if r.path.endswith("/agent/network-get-interfaces"))


def _booting(world: SimEnvironment, vmid: int = 500, **conf: Any) -> None:
    """A VM whose guest has just been started (its agent needs the default boot time).

    ``advance(0)`` first: the model's time is the clock's as of the last request, and the clock
    was frozen since; without it the guest would have started up to one request ago and its
    agent would answer a poll early (seen as a flaky 3-poll answer under load).
    """
    world.pve.advance(0)
    world.pve.state.add_vm(vmid, **conf)
    with world.pve.state.mutex:
        guest = world.pve.state.guests[vmid]
        guest.running, guest.started_at = True, world.pve.state.now


def test_agent_not_running_then_answering(
    provisioner: Provisioner, world: SimEnvironment, sim_time: SimTime
) -> None:
    _booting(world)  # the agent answers 1.5 s after start
    found = provisioner.vm_address("pve", 500, timeout=120)
    assert found.address == "10.0.2.2" and found.outcome == "agent"
    # polls at 0, 0.5, 1.25 (agent not running yet), then 2.375: answered
    assert found.polls == 4 == _agent_calls(world)
    assert sim_time.sleeps == [0.5, 0.75, 1.125]
    statuses = [r.status for r in world.pve.requests if "/agent/" in r.path]
    assert statuses == [500, 500, 500, 200]


def test_no_agent_configured_stops_at_once(
    provisioner: Provisioner, world: SimEnvironment, sim_time: SimTime
) -> None:
    _booting(world, agent="0")
    found = provisioner.vm_address("pve", 500, timeout=120)
    assert found.address is None and found.outcome == "no-agent"
    assert "no QEMU guest agent" in (found.reason or "")
    assert _agent_calls(world) == 1 and sim_time.sleeps == []


def test_stopped_or_missing_vm_stops_at_once(
    provisioner: Provisioner, world: SimEnvironment, sim_time: SimTime
) -> None:
    world.pve.state.add_vm(500)
    assert provisioner.vm_address("pve", 500, timeout=60).outcome == "not-running"
    assert provisioner.vm_address("pve", 777, timeout=60).outcome == "gone"
    assert _agent_calls(world) == 2 and sim_time.sleeps == []


def test_static_ip_is_known_without_asking(
    provisioner: Provisioner, world: SimEnvironment, sim_time: SimTime
) -> None:
    _booting(world, ipconfig0="ip=192.0.2.7/24,gw=192.0.2.1")
    found = provisioner.vm_address("pve", 500, ipconfig="ip=192.0.2.7/24,gw=192.0.2.1")
    assert found.address == "192.0.2.7" and found.outcome == "static"
    assert _agent_calls(world) == 0


def test_timeout_when_the_agent_never_starts(
    provisioner: Provisioner, world: SimEnvironment, sim_time: SimTime
) -> None:
    world.pve.faults.agent_boot(None)  # qemu-guest-agent not installed in the image
    _booting(world)
    found = provisioner.vm_address("pve", 500, timeout=3)
    assert found.address is None and found.outcome == "timeout"
    assert found.reason == "no address reported by the guest agent after 3 s"
    # 0, 0.5, 1.25, 2.375 and a last look at the deadline (3.0)
    assert found.polls == 5 == _agent_calls(world)
    assert sum(sim_time.sleeps) == pytest.approx(3.0)


def test_default_wait_comes_from_the_policy_and_zero_does_not_ask(
    provisioner: Provisioner, world: SimEnvironment, sim_time: SimTime
) -> None:
    world.pve.faults.agent_boot(None)
    _booting(world)
    assert provisioner.ops.defaults.address_wait_seconds == 120
    provisioner.ops.defaults = provisioner.ops.defaults.model_copy(
        update={"address_wait_seconds": 10}
    )
    assert provisioner.vm_address("pve", 500).reason == (
        "no address reported by the guest agent after 10 s"
    )
    before = _agent_calls(world)
    off = provisioner.vm_address("pve", 500, timeout=0)
    assert off.outcome == "off" and _agent_calls(world) == before


def test_transient_errors_are_retried(
    provisioner: Provisioner, world: SimEnvironment, sim_time: SimTime
) -> None:
    world.pve.state.add_vm(500, running=True)  # long booted
    world.pve.faults.http_errors(2, status=503, path="/nodes/*/qemu/500/agent/*")
    found = provisioner.vm_address("pve", 500, timeout=30)
    assert found.address == "10.0.2.2" and found.polls == 3


def test_verify_shows_the_address_and_list_only_when_asked(
    provisioner: Provisioner, world: SimEnvironment
) -> None:
    world.pve.state.rrd_lag = 0
    world.pve.state.add_vm(500, running=True, ciuser="rocky")
    world.pve.state.add_vm(501, running=True, ciuser="rocky", ipconfig0="ip=192.0.2.8/24")
    world.pve.state.add_vm(502)  # stopped: nobody asks its agent
    assert provisioner.verify_vm(500).address == "10.0.2.2"
    assert _agent_calls(world) == 1
    assert provisioner.verify_vm(501).address == "192.0.2.8"  # from the config
    assert _agent_calls(world) == 1
    assert [vm.address for vm in provisioner.list_vms()] == [None, None, None]
    assert _agent_calls(world) == 1
    listed = provisioner.list_vms(addresses=True)
    assert [vm.address for vm in listed] == ["10.0.2.2", "192.0.2.8", None]
    assert _agent_calls(world) == 3  # one per running VM


def test_image_without_an_agent_is_not_asked(
    provisioner: Provisioner, world: SimEnvironment, sim_time: SimTime
) -> None:
    _booting(world)
    found = provisioner.vm_address("pve", 500, timeout=120, distribution="debian12")
    assert found.address is None and found.outcome == "no-agent"
    assert found.reason == (
        "the debian12 cloud image ships no QEMU guest agent, so Proxmox cannot report its "
        "DHCP address"
    )
    assert _agent_calls(world) == 0 and sim_time.sleeps == []
    # A static address still wins, and images with an agent (or unknown ones) are asked.
    static = provisioner.vm_address("pve", 500, ipconfig="ip=192.0.2.9/24", distribution="debian12")
    assert static.address == "192.0.2.9"
    assert provisioner.vm_address("pve", 500, timeout=120, distribution="rocky9").found
    assert provisioner.vm_address("pve", 500, timeout=120, distribution="homebrew").found
    assert _agent_calls(world) >= 2


def test_catalog_marks_the_images_without_an_agent(provisioner: Provisioner) -> None:
    catalog = provisioner.catalog
    without = {entry.name for entry in catalog if not entry.guest_agent}
    assert without == {"debian12", "debian13", "ubuntu2204", "ubuntu2404"}


def test_token_without_guest_agent_audit_stops_at_once(
    provisioner: Provisioner, world: SimEnvironment, sim_time: SimTime
) -> None:
    world.pve.state.revoke_token_privileges(
        "/", "VM.GuestAgent.Audit", "VM.GuestAgent.Unrestricted"
    )
    _booting(world)
    found = provisioner.vm_address("pve", 500, timeout=120)
    assert found.address is None and found.outcome == "denied"
    assert "VM.GuestAgent.Audit" in (found.reason or "")
    statuses = [r.status for r in world.pve.requests if "/agent/" in r.path]
    assert statuses == [403] and sim_time.sleeps == []
