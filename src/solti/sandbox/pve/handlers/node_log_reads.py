"""The node's system log (``syslog``, ``journal``) and its system report (``report``).

The simulator runs no journald; the lines it can honestly show are the ones PVE's own API
daemon writes for every task: pve-common ``PVE/RESTEnvironment.pm`` ``fork_worker`` logs
``starting task <UPID>`` when a worker starts and ``end task <UPID> <status>`` when it ends,
tagged with the user (``<user>``), from ``pvedaemon`` (``[pid]`` the task's, the simulator
has no other). Each line is rendered as ``journalctl -o short`` prints it (``Mon DD
HH:MM:SS host ident[pid]: message``, the nodes run in UTC).

- pve-manager ``PVE/API2/Nodes.pm`` ``syslog`` → pve-common ``PVE/Tools.pm``
  ``dump_journal``: lines numbered from 1, ``start`` lines skipped, at most ``limit`` (50)
  returned, ``since``/``until`` as ``journalctl`` takes them, ``service`` as ``--unit``
  (only ``pvedaemon`` has lines); nothing matched gives the single ``{n: 1, t: "no
  content"}``.
- ``journal`` → ``mini-journalreader -j``: the journal's lines between ``since``/``until``
  (epochs) or after/before a cursor, the last ``lastentries`` of them, with the cursor of the
  first and of the last entry around them. (PVE streams the reader's gzip'd JSON ``{"data":
  [...]}`` as a download; the simulator sends the same document uncompressed.)
- ``report`` → ``PVE/Report.pm`` ``generate``: the "general system info" section, with the
  commands whose output the simulator has (``hostname``, ``date -R``, ``pveversion
  --verbose`` from ``apt_reads``, ``/etc/hosts`` from ``node_reads``); the sections reading
  host state the simulator does not model (processes, block devices, iptables...) are left
  out rather than made up.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers.apt_reads import version_rows
from solti.sandbox.pve.handlers.node_reads import hosts_file

NO_CONTENT = {"n": 1, "t": "no content"}
DAEMON = "pvedaemon"


def _entries(call: Call) -> list[tuple[int, str]]:
    """``(epoch, short line)`` of the node's journal, oldest first."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        rows = [row for row in cluster.tasks.cluster_list() if row["node"] == call.node]
    entries: list[tuple[int, int, str]] = []
    for row in rows:
        user = row["upid"].split(":")[7]
        prefix = f"{DAEMON}[{row['pid']}]: <{user}>"
        entries.append((row["starttime"], 0, f"{prefix} starting task {row['upid']}"))
        if "endtime" in row:
            entries.append((row["endtime"], 1, f"{prefix} end task {row['upid']} {row['status']}"))
    entries.sort(key=lambda e: (e[0], e[1]))
    return [(when, short_line(when, call.node, text)) for when, _, text in entries]


def short_line(when: int, host: str, text: str) -> str:
    stamp = datetime.fromtimestamp(when, UTC).strftime("%b %d %H:%M:%S")
    return f"{stamp} {host} {text}"


def _epoch(value: str) -> int:
    """A ``journalctl --since/--until`` date-time (``YYYY-MM-DD[ HH:MM[:SS]]``) in UTC."""
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return int(datetime.strptime(value, layout).replace(tzinfo=UTC).timestamp())
        except ValueError:
            continue
    raise ValueError(value)


def syslog(call: Call) -> list[dict[str, Any]]:
    entries = _entries(call)
    params = call.params
    service = params.get("service")
    if service and service not in (DAEMON, f"{DAEMON}.service"):
        entries = []
    if params.get("since"):
        entries = [e for e in entries if e[0] >= _epoch(params["since"])]
    if params.get("until"):
        entries = [e for e in entries if e[0] <= _epoch(params["until"])]
    start = int(params.get("start") or 0)
    limit = int(params.get("limit") or 50)
    lines = [{"n": i + 1, "t": text} for i, (_, text) in enumerate(entries)]
    if not lines:
        return [dict(NO_CONTENT)]
    return lines[start : start + limit]


def cursor(node: str, index: int, when: int) -> str:
    """A journald cursor (``s=``seqnum id; ``i=``seqnum; ``b=``boot id; ``m=``monotonic;
    ``t=``realtime; ``x=``xor hash) for entry ``index`` of ``node``'s journal."""
    seqnum_id = hashlib.md5(f"{node}-journal".encode()).hexdigest()
    boot_id = hashlib.md5(f"{node}-boot".encode()).hexdigest()
    xor = hashlib.md5(f"{node}-{index}".encode()).hexdigest()[:16]
    return (
        f"s={seqnum_id};i={index + 1:x};b={boot_id};m={index + 1:x};t={when * 1_000_000:x};x={xor}"
    )


def journal(call: Call) -> list[str]:
    entries = list(enumerate(_entries(call)))
    params = call.params
    if params.get("since") is not None:
        entries = [e for e in entries if e[1][0] >= int(params["since"])]
    if params.get("until") is not None:
        entries = [e for e in entries if e[1][0] <= int(params["until"])]
    if params.get("startcursor"):
        entries = [e for e in entries if cursor(call.node, e[0], e[1][0]) > params["startcursor"]]
    if params.get("endcursor"):
        entries = [e for e in entries if cursor(call.node, e[0], e[1][0]) < params["endcursor"]]
    if params.get("lastentries"):
        entries = entries[-int(params["lastentries"]) :]
    if not entries:
        return []
    first, last = entries[0], entries[-1]
    return [
        cursor(call.node, first[0], first[1][0]),
        *(text for _, (_, text) in entries),
        cursor(call.node, last[0], last[1][0]),
    ]


def pveversion_verbose(manager: dict[str, str], kernel_release: str) -> str:
    """``pveversion --verbose`` (pve-manager ``bin/pveversion`` ``print_status``): each row of
    ``apt/versions`` as ``name: version``, with the running kernel of ``proxmox-ve`` and the
    running version of ``pve-manager``."""
    lines = []
    for row in version_rows(manager, kernel_release):
        line = f"{row['Package']}: {row['OldVersion']}"
        if "RunningKernel" in row:
            line += f" (running kernel: {row['RunningKernel']})"
        elif "ManagerVersion" in row:
            line += f" (running version: {row['ManagerVersion']})"
        lines.append(line)
    return "\n".join(lines)


def report(call: Call) -> str:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        manager = cluster.nodes.version()
        kernel = cluster.nodes.hardware()["current-kernel"]["release"]
        hosts = hosts_file(cluster.nodes.names, cluster.nodes.address)
        now = cluster.now or time.time()
    commands = [
        ("hostname", call.node),
        ("date -R", format_datetime(datetime.fromtimestamp(now, UTC))),
        ("pveversion --verbose", pveversion_verbose(manager, kernel)),
        ("cat /etc/hosts", hosts.rstrip("\n")),
    ]
    text = "\n==== general system info ====\n"
    for command, output in commands:
        text += f"\n# {command}\n{output}\n"
    return text


NODE_LOG_READS: dict[str, Handler] = {
    "/nodes/{node}/syslog": syslog,
    "/nodes/{node}/journal": journal,
    "/nodes/{node}/report": report,
}
