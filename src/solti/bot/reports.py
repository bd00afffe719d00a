"""The template-version report: gathered from provisioning, posted to a channel.

``bot.scheduler`` posts it on the policy's cron; ``/solti report`` posts it on demand.

With several clusters configured the report covers every cluster, asked at once
(``every_cluster``): a section per cluster (its distributions, leases ending, outdated clones,
old snapshots), and a cluster that does not answer named in one line under the others.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from solti.bot.blocks.fleet_blocks import fleet_blocks
from solti.bot.blocks.report import (
    ClusterReport,
    DistributionReport,
    report_messages,
    report_messages_clusters,
)
from solti.bot.blocks.snapshot_blocks import old_snapshot_blocks
from solti.bot.every_cluster import on_every_cluster, unanswered_text
from solti.bot.fleet_facts import ending_within, outdated_vms
from solti.bot.runtime import Runtime
from solti.bot.slackcalls import send_retrying
from solti.provisioning.clusters import split
from solti.provisioning.template_copies import copies_of

__all__ = ["gather", "gather_fleet", "gather_old_snapshots", "post_report"]

log = logging.getLogger("solti.bot.reports")


def gather(
    runtime: Runtime, templates: list[Any] | None = None, vms: list[Any] | None = None
) -> list[DistributionReport]:
    """Per distribution: latest template, older builds, clones, and upstream's answer."""
    provisioner = runtime.provisioner
    templates = provisioner.list_templates() if templates is None else templates
    vms = provisioner.list_vms() if vms is None else vms
    try:
        updates = {u.distribution: u for u in provisioner.check_updates()}
    except Exception as exc:
        log.warning("update check failed: %s", type(exc).__name__)
        updates = {}
    by_dist: dict[str, list[Any]] = defaultdict(list)
    for t in templates:
        by_dist[t.distribution or t.name].append(t)
    names = sorted(set(by_dist) | set(updates))
    items = []
    for name in names:
        newest_first = sorted(by_dist.get(name, []), key=lambda t: t.vmid, reverse=True)
        builds = list(copies_of(newest_first).values())  # copies of one build count once
        latest = builds[0][0] if builds else None
        copies = builds[0][1:] if builds else []
        ids = {t.vmid for t in builds[0]} if builds else set()
        clones = sum(1 for vm in vms if vm.template_vmid in ids)
        older = [group[0] for group in builds[1:]]
        items.append(
            DistributionReport(name, latest, older, clones, updates.get(name), copies=copies)
        )
    return items


def gather_fleet(runtime: Runtime, templates: list[Any], vms: list[Any]) -> list[Any]:
    """The report's fleet sections: leases ending in the next 7 days, outdated clones, and
    snapshots older than ``snapshots.max_age`` by owner."""
    blocks = fleet_blocks(ending_within(vms, runtime.clock()), outdated_vms(vms, templates))
    return blocks + gather_old_snapshots(runtime)


def gather_old_snapshots(runtime: Runtime) -> list[Any]:
    """The old-snapshots section; a failure to read them leaves it out, not the report."""
    from solti.provisioning.durations import format_duration

    provisioner = runtime.provisioner
    try:
        old = provisioner.old_snapshots()
    except Exception as exc:
        log.warning("old snapshot check failed: %s", type(exc).__name__)
        return []
    return old_snapshot_blocks(old, format_duration(provisioner.snapshot_policy.max_age))


def post_report(runtime: Runtime, channel: str) -> list[str]:
    """Post the report to ``channel`` (one or more messages); returns their timestamps."""
    if runtime.clusters.many:
        messages = _messages_of_clusters(runtime)
    else:
        templates = runtime.provisioner.list_templates()
        vms = runtime.provisioner.list_vms()
        messages = report_messages(
            gather(runtime, templates, vms), runtime.clock(), gather_fleet(runtime, templates, vms)
        )
    stamps = []
    for payload in messages:
        # Parts go out back to back, about Slack's one message a second per channel.
        response = send_retrying(
            lambda payload=payload: runtime.client.chat_postMessage(channel=channel, **payload),
            "report message",
        )
        stamps.append(response["ts"])
    return stamps


def _messages_of_clusters(runtime: Runtime) -> list[dict[str, Any]]:
    """Every cluster's part at once; one that fails is named, the others reported."""

    def part() -> ClusterReport:  # runs on one cluster (runtime.on_cluster)
        templates = runtime.provisioner.list_templates()
        vms = runtime.provisioner.list_vms()
        return ClusterReport(
            runtime.cluster, gather(runtime, templates, vms), gather_fleet(runtime, templates, vms)
        )

    answered, unanswered = split(on_every_cluster(runtime, part))
    for answer in unanswered:
        log.warning("report: cluster %s did not answer: %s", answer.cluster,
                    type(answer.error).__name__)  # fmt: skip
    return report_messages_clusters(
        [a.value for a in answered], [unanswered_text(a) for a in unanswered], runtime.clock()
    )
