"""Which cluster the running work is for, as a context variable (a leaf: imports nothing).

``Runtime.on_cluster`` sets it around each request's work; it follows the work onto the pools
(``AfterAck`` copies the context). When several clusters are configured, messages name the
cluster (``named_cluster``) and every button that names a VM carries it in its value
(``500@lab``), so a click acts on the VM of the cluster the message was about, wherever it is
clicked (a DM, the approvals channel, another cluster's channel).
"""

from __future__ import annotations

import re
from contextvars import ContextVar

__all__ = [
    "CLUSTER_DETAIL", "CURRENT", "NAMED", "button_value", "named_cluster", "split_button_value",
]  # fmt: skip

# The approval card's detail naming the cluster a request is for (several configured); the
# approved work runs there, whoever clicks where (``flows.approval_lifecycle._run``).
CLUSTER_DETAIL = "Cluster"
# Button values that name a VM: `500`, or `500:snapshot-name` (snapshot buttons).
_VM_VALUE = r"\d+(?::[A-Za-z][A-Za-z0-9_-]*)?"
_NAMES_A_VM = re.compile(rf"^{_VM_VALUE}$")
_WITH_CLUSTER = re.compile(rf"^(?P<value>{_VM_VALUE})@(?P<cluster>[a-z][a-z0-9-]{{0,31}})$")

# The cluster of the running work (None: default).
CURRENT: ContextVar[str | None] = ContextVar("solti_cluster", default=None)
# The same name when several clusters are configured (people are then told which), else None.
NAMED: ContextVar[str | None] = ContextVar("solti_named_cluster", default=None)


def named_cluster() -> str | None:
    """The running work's cluster, when people need to be told which (several configured)."""
    return NAMED.get()


def button_value(value: str) -> str:
    """A VM's button value with the running work's cluster (``500@lab``,
    ``500:before-upgrade@lab``) when several clusters are configured."""
    cluster = NAMED.get()
    return f"{value}@{cluster}" if cluster and _NAMES_A_VM.match(value) else value


def split_button_value(value: str) -> tuple[str, str | None]:
    """``500@lab`` -> ``("500", "lab")``; any other value -> ``(value, None)``."""
    found = _WITH_CLUSTER.match(value)
    return (found["value"], found["cluster"]) if found else (value, None)
