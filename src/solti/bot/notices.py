"""Outdated-template notices: each owner is DM'd once per new template build.

With ``reports.notify_owners: true`` the scheduler runs ``send_notices`` (and the report does,
too): for every owner with VMs on a build older than the newest of its distribution, one DM
per newest build listing those VMs, how far behind each is, a confirmed [Rebuild] each (the
same path as `/solti vm rebuild`) and [Dismiss]. The row in ``template_notices`` (bot database,
migration ``m007_template_notices``) is written before the DM is sent, so a restart, a second
bot process or the next run never sends it again; a DM Slack refused gives its row back, so
a later run tries again. [Dismiss] is remembered in the same row.

Clusters: template VMIDs are per cluster, so a row is keyed by (cluster, owner, template VMID)
(migration ``m008_h2clusterlists_notice_cluster``); the store's cluster is the running work's
(``runtime.on_cluster``: the [Dismiss] button names it, ``9001@lab``). With several clusters
configured ``send_notices`` runs on every cluster at once (``every_cluster``), the DM names the
cluster, and one cluster that does not answer is logged while the others' notices go out.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from solti.bot.blocks.elements import context
from solti.bot.blocks.rebuild_blocks import notice_message
from solti.bot.cluster_context import CURRENT, named_cluster
from solti.bot.db import BotDatabase
from solti.bot.every_cluster import on_every_cluster
from solti.bot.fleet_facts import Outdated, outdated_vms
from solti.bot.runtime import Runtime
from solti.bot.slackcalls import send_retrying
from solti.provisioning.clusters import DEFAULT_CLUSTER

__all__ = ["NoticeStore", "send_notices"]

log = logging.getLogger("solti.bot.notices")


class NoticeStore:
    """The ``template_notices`` table: who was told about which newest build, and dismissals."""

    def __init__(self, database: BotDatabase) -> None:
        self.database = database

    @staticmethod
    def _cluster(cluster: str | None) -> str:
        """The given cluster, else the running work's (``runtime.on_cluster``), else default."""
        return cluster or CURRENT.get() or DEFAULT_CLUSTER

    def claim(
        self, owner: str, latest: Any, vmids: list[int], at: datetime, cluster: str | None = None
    ) -> bool:
        """True when this notice was not sent before (and is now taken by this caller)."""
        with self.database.transaction() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO [template_notices] "
                "(cluster, owner, template_vmid, version, vmids, sent_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [self._cluster(cluster), owner, latest.vmid, latest.version, json.dumps(vmids),
                 at.isoformat()],
            )  # fmt: skip
            return cursor.rowcount == 1

    def release(self, owner: str, template_vmid: int, cluster: str | None = None) -> None:
        with self.database.transaction() as conn:
            conn.execute(
                "DELETE FROM [template_notices] WHERE cluster = ? AND owner = ? "
                "AND template_vmid = ? AND dismissed_at IS NULL",
                [self._cluster(cluster), owner, template_vmid],
            )

    def dismiss(
        self, owner: str, template_vmid: int, at: datetime, cluster: str | None = None
    ) -> bool:
        """True when ``owner`` had this notice (a click on someone else's is refused)."""
        with self.database.transaction() as conn:
            cursor = conn.execute(
                "UPDATE [template_notices] SET dismissed_at = ? "
                "WHERE cluster = ? AND owner = ? AND template_vmid = ?",
                [at.isoformat(), self._cluster(cluster), owner, template_vmid],
            )
            return cursor.rowcount == 1

    def get(
        self, owner: str, template_vmid: int, cluster: str | None = None
    ) -> dict[str, Any] | None:
        with self.database.lock:
            cursor = self.database.db.conn.execute(
                "SELECT owner, template_vmid, version, vmids, sent_at, dismissed_at "
                "FROM [template_notices] WHERE cluster = ? AND owner = ? AND template_vmid = ?",
                [self._cluster(cluster), owner, template_vmid],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        names = ("owner", "template_vmid", "version", "vmids", "sent_at", "dismissed_at")
        return dict(zip(names, row, strict=True))


def _slack_user(owner: Any) -> bool:
    """A Slack user id (``U0ALICE``, Grid's ``W...``), not a CLI owner's login name."""
    text = str(owner or "")
    return len(text) > 1 and text[0] in "UW" and text.isalnum() and text.isupper()


def due(outdated: list[Outdated]) -> dict[tuple[str, int], list[Outdated]]:
    """(owner, newest build's VMID) -> that owner's VMs on older builds of it."""
    grouped: dict[tuple[str, int], list[Outdated]] = defaultdict(list)
    for item in outdated:
        if _slack_user(item.vm.owner):  # a CLI login name cannot be DM'd
            grouped[(str(item.vm.owner), int(item.latest.vmid))].append(item)
    return dict(sorted(grouped.items()))


def send_notices(
    runtime: Runtime, templates: list[Any] | None = None, vms: list[Any] | None = None
) -> int:
    """DM every notice not sent before; returns how many were sent.

    With several clusters configured and no lists given, on every cluster at once."""
    if not runtime.rules.notify_owners:
        return 0
    if runtime.clusters.many and templates is None and vms is None:
        sent = 0
        for answer in on_every_cluster(runtime, lambda: _send_on_cluster(runtime)):
            if answer.error is not None:
                log.warning("outdated-template notices: cluster %s did not answer: %s",
                            answer.cluster, type(answer.error).__name__)  # fmt: skip
            else:
                sent += answer.value
        return sent
    return _send_on_cluster(runtime, templates, vms)


def _with_cluster(payload: dict[str, Any]) -> dict[str, Any]:
    """The notice naming its cluster when several are configured (VMIDs are per cluster)."""
    cluster = named_cluster()
    if not cluster:
        return payload
    return {
        **payload,
        "text": f"{payload['text']} (cluster {cluster})",
        "blocks": [context(f"Cluster `{cluster}`"), *payload["blocks"]],
    }


def _send_on_cluster(
    runtime: Runtime, templates: list[Any] | None = None, vms: list[Any] | None = None
) -> int:
    """The notices of the running work's cluster."""
    provisioner = runtime.provisioner
    templates = provisioner.list_templates() if templates is None else templates
    vms = provisioner.list_vms() if vms is None else vms
    store = NoticeStore(runtime.database)
    now = runtime.clock() or datetime.now(UTC)
    sent = 0
    for (owner, _), items in due(outdated_vms(vms, templates)).items():
        latest = items[0].latest
        if not store.claim(owner, latest, [i.vm.vmid for i in items], now):
            continue
        try:
            send_retrying(
                lambda owner=owner, items=items, latest=latest: runtime.client.chat_postMessage(
                    channel=owner, **_with_cluster(notice_message(items, latest))
                ),
                "outdated-template notice",
            )
        except Exception:
            log.warning("could not DM the outdated-template notice to %s", owner)
            store.release(owner, latest.vmid)
            continue
        sent += 1
    return sent
