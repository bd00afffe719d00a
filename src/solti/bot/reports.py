"""The template-version report: gathered from provisioning, posted to a channel.

``bot.scheduler`` posts it on the policy's cron; ``/solti report`` posts it on demand.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from solti.bot.blocks.report import DistributionReport, report_messages
from solti.bot.runtime import Runtime
from solti.bot.slackcalls import send_retrying

__all__ = ["gather", "post_report"]

log = logging.getLogger("solti.bot.reports")


def gather(runtime: Runtime) -> list[DistributionReport]:
    """Per distribution: latest template, older builds, clones, and upstream's answer."""
    provisioner = runtime.provisioner
    templates = provisioner.list_templates()
    vms = provisioner.list_vms()
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
        builds = sorted(by_dist.get(name, []), key=lambda t: t.vmid, reverse=True)
        latest = builds[0] if builds else None
        clones = sum(1 for vm in vms if latest is not None and vm.template_vmid == latest.vmid)
        items.append(DistributionReport(name, latest, builds[1:], clones, updates.get(name)))
    return items


def post_report(runtime: Runtime, channel: str) -> list[str]:
    """Post the report to ``channel`` (one or more messages); returns their timestamps."""
    messages = report_messages(gather(runtime), runtime.clock())
    stamps = []
    for payload in messages:
        # Parts go out back to back, about Slack's one message a second per channel.
        response = send_retrying(
            lambda payload=payload: runtime.client.chat_postMessage(channel=channel, **payload),
            "report message",
        )
        stamps.append(response["ts"])
    return stamps
