"""Work on every cluster at once, each inside ``runtime.on_cluster(name)`` (several clusters).

The bot's side of ``Clusters.each_named``: the App Home, the scheduled report, the outdated-
template notices and `/solti vm list` over every cluster ask each cluster in parallel, so a
cluster that times out costs its own timeout only, and a failure (unreachable, refused token,
missing secret) is that cluster's answer, which the message names in one line
(``unanswered_text``) while the others are shown. Each piece of work runs in a copy of the
caller's context with the cluster set, so ``runtime.provisioner``, ``runtime.audit`` and
``cluster_context.button_value`` are that cluster's.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

from solti.provisioning.clusters import ClusterAnswer
from solti.provisioning.errors import Unreachable

__all__ = ["on_every_cluster", "unanswered_text"]

T = TypeVar("T")


def on_every_cluster(
    runtime: Any, work: Callable[[], T], names: list[str] | None = None
) -> list[ClusterAnswer]:
    """``work()`` once per cluster (or ``names``), in parallel, each on its own cluster;
    every cluster's value or error, in the clusters' order."""
    caller_context = contextvars.copy_context()

    def on(name: str) -> T:
        with runtime.on_cluster(name):
            return work()

    def one(name: str) -> T:
        return caller_context.copy().run(on, name)  # one copy per thread: a Context runs once

    return runtime.clusters.each_named(one, names)


def unanswered_text(answer: ClusterAnswer) -> str:
    """``Cluster `lab` did not answer: ...``: one line for people, never a secret or a
    traceback (the error words as ``describe_error`` does; a lost connection plainly)."""
    error = answer.error
    if isinstance(error, Unreachable):
        why = "Proxmox VE is not answering right now"
    else:
        from solti.bot.flows.caller import describe_error

        # An empty context: the sentence must not name the cluster a second time.
        why = contextvars.Context().run(describe_error, error)[0].rstrip(".")
    return f"Cluster `{answer.cluster}` did not answer: {why}."
