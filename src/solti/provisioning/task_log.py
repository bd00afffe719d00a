"""Facts the product reads from a finished task's log rather than its exit status.

qemu-server ``_do_vm_stop`` reports a forced stop with a plain Perl ``warn`` ("VM still running
- terminating now with SIGTERM"): pve-common ``RESTEnvironment.pm`` counts only ``log_warn``
calls, so the task ends ``OK``, and only its log tells that the guest was killed.
"""

from __future__ import annotations

from typing import Any

FORCED_STOP = "terminating now with SIG"


def guest_was_killed(client: Any, node: str, upid: str) -> bool:
    """Whether the shutdown task ``upid`` stopped the guest hard after its timeout."""
    lines = client.request("GET", f"nodes/{node}/tasks/{upid}/log", limit=0)
    return any(FORCED_STOP in str(line.get("t", "")) for line in lines or [])
