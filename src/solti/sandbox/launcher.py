"""``solti sim pve``: the Proxmox VE simulator and its image mirror as a standalone process.

The contract (docs/design.md) is one JSON line on stdout as soon as the servers accept
connections, ``{"url": ..., "env": {...}}``, so a script or another test process can read it
and export the environment; then serve until SIGTERM or SIGINT and exit 0 without a traceback.
Everything else (logs) goes to stderr so stdout stays machine-readable.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterable
from types import FrameType
from typing import Any

import click

__all__ = ["parse_assignments", "pve_command", "sim_group"]


def parse_assignments(values: Iterable[str], option: str) -> list[tuple[str, str]]:
    """``TYPE=VALUE`` pairs of a repeatable option; a bad one names the option and value."""
    pairs: list[tuple[str, str]] = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip() or not rest.strip():
            raise click.BadParameter(f"expected TYPE=VALUE, got {value!r}", param_hint=option)
        pairs.append((key.strip(), rest.strip()))
    return pairs


def _seconds(value: str, option: str, *, also: str = "") -> float:
    """A non-negative number of seconds; a bad one names the option and the value."""
    try:
        number = float(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a number of seconds{also}", param_hint=option
        ) from None
    if number < 0:
        raise click.BadParameter("seconds must not be negative", param_hint=option)
    return number


def _durations(values: Iterable[str]) -> list[tuple[str, float]]:
    return [
        (task_type, _seconds(seconds, "--task-duration"))
        for task_type, seconds in parse_assignments(values, "--task-duration")
    ]


def _agent_boot(value: str | None) -> float | None:
    """``--agent-boot``: seconds, or ``never`` (None: the agent never answers)."""
    if value is None or value.strip().lower() == "never":
        return None
    return _seconds(value, "--agent-boot", also=" or 'never'")


@click.group(name="sim")
def sim_group() -> None:
    """Run a simulator on its own, for scripts and for poking at it with curl or proxmoxer."""


@sim_group.command(name="pve")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="HTTPS port of the Proxmox API (0: any free port).",
)
@click.option(
    "--nodes",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    help="Number of cluster nodes.",
)
@click.option("--shared-storage", is_flag=True, help="Add a storage shared by all nodes.")
@click.option(
    "--offline",
    "offline",
    multiple=True,
    metavar="NODE",
    help="Start with NODE offline (requests to it fail with 595). Repeatable.",
)
@click.option(
    "--node-memory",
    metavar="NODE=GIB,...",
    help="Total memory of nodes in GiB (pve=64,pve2=32); the others have 32.",
)
@click.option(
    "--storage-nodes",
    "storage_nodes",
    multiple=True,
    metavar="STORAGE=NODE,...",
    help="Enable STORAGE on these nodes only (storage.cfg 'nodes'). Repeatable.",
)
@click.option(
    "--latency",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Seconds added to every API request.",
)
@click.option(
    "--task-duration",
    "task_durations",
    multiple=True,
    metavar="TYPE=SECONDS",
    help="How long tasks of a type run (qmclone=0.5). Repeatable.",
)
@click.option(
    "--fail-next-task",
    "fail_next",
    multiple=True,
    metavar="TYPE=MESSAGE",
    help="Make the next task of a type fail with MESSAGE. Repeatable.",
)
@click.option(
    "--http-errors",
    type=click.IntRange(0),
    default=0,
    help="Answer the next N API requests with HTTP 500 (no side effect).",
)
@click.option(
    "--drop-connections",
    type=click.IntRange(0),
    default=0,
    help="Close the connection of the next N API requests without answering.",
)
@click.option(
    "--agent-boot",
    metavar="SECONDS|never",
    help="Seconds after start until a guest agent answers (default 1.5; never: not installed).",
)
@click.option("--ignore-acpi", is_flag=True, help="Guests ignore shutdown (ACPI) requests.")
@click.option(
    "--token-privileges",
    "token_privileges",
    type=click.File("r"),
    metavar="FILE",
    help='The API token\'s ACL as JSON: {"/path": ["Privilege", ...]} (default: all on /).',
)
def pve_command(
    port: int,
    nodes: int,
    shared_storage: bool,
    offline: tuple[str, ...],
    node_memory: str | None,
    storage_nodes: tuple[str, ...],
    latency: float,
    task_durations: tuple[str, ...],
    fail_next: tuple[str, ...],
    http_errors: int,
    drop_connections: int,
    agent_boot: str | None,
    ignore_acpi: bool,
    token_privileges: Any,
) -> None:
    """Serve the Proxmox VE simulator and image mirror until SIGTERM or SIGINT.

    Prints one JSON line when ready: {"url": "https://127.0.0.1:PORT", "env": {...}}.
    Locks (hold_lock) and per-VM faults are armed at run time with POST /_sim/faults.
    """
    durations = _durations(task_durations)
    failures = parse_assignments(fail_next, "--fail-next-task")
    names = node_names(nodes)
    memory = _node_memory(node_memory, names)
    restrictions = _storage_nodes(storage_nodes, names, shared_storage)
    down = _offline(offline, names)
    boot = _agent_boot(agent_boot)
    acl = _token_acl(token_privileges)

    from solti.sandbox.environment import SimEnvironment

    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    environment = SimEnvironment(
        nodes=nodes,
        shared_storage=shared_storage,
        port=port,
        simulator_options={"node_memory": memory, "storage_nodes": restrictions},
    )
    try:
        try:
            environment.start()
        except OSError as exc:
            raise click.ClickException(f"cannot start the simulator: {exc}") from None
        faults = environment.pve.faults
        _arm_faults(faults, latency, durations, failures)
        if http_errors:
            faults.http_errors(http_errors)
        if drop_connections:
            faults.drop_connections(drop_connections)
        if agent_boot is not None:
            faults.agent_boot(boot)
        if ignore_acpi:
            faults.ignore_acpi()
        if acl is not None:
            faults.token_privileges(acl)
        for node in down:
            faults.node_offline(node)
        ready: dict[str, Any] = {"url": environment.url, "env": environment.env}
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        environment.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _token_acl(handle: Any) -> dict[str, Any] | None:
    """The ``--token-privileges`` file, checked before anything starts."""
    if handle is None:
        return None
    try:
        acl = json.load(handle)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--token-privileges") from None
    from solti.sandbox.pve.state.access import Access

    try:
        Access().replace_acl(acl)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--token-privileges") from None
    return dict(acl)


def _arm_faults(
    faults: Any,
    latency: float,
    durations: list[tuple[str, float]],
    failures: list[tuple[str, str]],
) -> None:
    if latency:
        faults.latency(latency)
    for task_type, seconds in durations:
        faults.task_duration(task_type, seconds)
    for task_type, message in failures:
        faults.fail_next_task(task_type, message)


GIB = 1024**3


def node_names(count: int) -> list[str]:
    """The simulator's node names for ``--nodes count``: pve, pve2, pve3, ..."""
    return ["pve"] + [f"pve{i}" for i in range(2, count + 1)]


def _known_node(node: str, names: list[str], option: str) -> str:
    if node not in names:
        raise click.BadParameter(
            f"no node {node!r} in this cluster (nodes: {', '.join(names)})", param_hint=option
        )
    return node


def _offline(values: Iterable[str], names: list[str]) -> list[str]:
    """``--offline NODE``: known nodes, at least one left online."""
    down = [_known_node(v.strip(), names, "--offline") for v in values]
    if set(names) <= set(down):
        raise click.BadParameter(
            "every node would be offline; at least one must answer", param_hint="--offline"
        )
    return list(dict.fromkeys(down))


def _node_memory(value: str | None, names: list[str]) -> dict[str, int]:
    """``--node-memory pve=64,pve2=32``: whole or fractional GiB per known node, above 4
    (the host's own use)."""
    memory: dict[str, int] = {}
    if value is None:
        return memory
    for node, gib in parse_assignments(value.split(","), "--node-memory"):
        _known_node(node, names, "--node-memory")
        try:
            number = float(gib)
        except ValueError:
            raise click.BadParameter(
                f"{gib!r} is not a number of GiB (for node {node})", param_hint="--node-memory"
            ) from None
        if not 4 < number <= 16384:
            raise click.BadParameter(
                f"{node}: {gib} GiB; allowed is more than 4 (the host's own use) up to 16384",
                param_hint="--node-memory",
            )
        memory[node] = int(number * GIB)
    return memory


def _storage_nodes(
    values: Iterable[str], names: list[str], shared_storage: bool
) -> dict[str, list[str]]:
    """``--storage-nodes shared=pve,pve2``: a storage the simulator has, on known nodes."""
    storages = ["local", "local-lvm"] + (["shared"] if shared_storage else [])
    out: dict[str, list[str]] = {}
    for storage, nodes in parse_assignments(values, "--storage-nodes"):
        if storage not in storages:
            raise click.BadParameter(
                f"no storage {storage!r} (storages: {', '.join(storages)})",
                param_hint="--storage-nodes",
            )
        listed = [n.strip() for n in nodes.split(",") if n.strip()]
        out[storage] = [_known_node(n, names, "--storage-nodes") for n in listed]
    return out
