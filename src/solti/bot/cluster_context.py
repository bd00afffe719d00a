"""Which cluster the running work is for, as a context variable (a leaf: imports nothing).

``Runtime.on_cluster`` sets it around each request's work; it follows the work onto the pools
(``AfterAck`` copies the context). When several clusters are configured, messages name the
cluster (``named_cluster``) and every button that names a VM carries it in its value
(``500@lab``), so a click acts on the VM of the cluster the message was about, wherever it is
clicked (a DM, the approvals channel, another cluster's channel).
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = [
    "CLUSTER_DETAIL", "CURRENT", "NAMED", "button_value", "named_cluster", "split_button_value",
]  # fmt: skip

# The approval card's detail naming the cluster a request is for (several configured); the
# approved work runs there, whoever clicks where (``flows.templates._run``).
CLUSTER_DETAIL = "Cluster"

# The cluster of the running work (None: default).
CURRENT: ContextVar[str | None] = ContextVar("solti_cluster", default=None)
# The same name when several clusters are configured (people are then told which), else None.
NAMED: ContextVar[str | None] = ContextVar("solti_named_cluster", default=None)


def named_cluster() -> str | None:
    """The running work's cluster, when people need to be told which (several configured)."""
    return NAMED.get()


def button_value(value: str) -> str:
    """A VMID button value with the running work's cluster (``500@lab``) when it matters."""
    cluster = NAMED.get()
    return f"{value}@{cluster}" if cluster and value.isdigit() else value


def split_button_value(value: str) -> tuple[str, str | None]:
    """``500@lab`` -> ``("500", "lab")``; any other value -> ``(value, None)``."""
    head, sep, cluster = value.partition("@")
    if sep and head.isdigit() and cluster:
        return head, cluster
    return value, None
