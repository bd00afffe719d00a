"""The template-version report and the scheduler that posts it on the policy's cron.

APScheduler's BackgroundScheduler runs two jobs: the report (CronTrigger from
``reports.cron`` in ``reports.timezone``) when a report channel is set, and the approval-expiry
sweep. Both swallow and log their errors: a failing report must not stop the next one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from solti.bot.blocks.report import DistributionReport, report_messages
from solti.bot.runtime import Runtime
from solti.bot.slackcalls import send_retrying

__all__ = ["gather", "post_report", "start_scheduler"]

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


def _scheduled_report(runtime: Runtime) -> None:
    channel = runtime.rules.reports_channel
    if not channel:
        return
    try:
        post_report(runtime, channel)
    except Exception:
        log.exception("scheduled template report failed")


def _sweep(runtime: Runtime) -> None:
    from solti.bot.flows.templates import expire_due

    try:
        expire_due(runtime)
    except Exception:
        log.exception("approval expiry sweep failed")


def start_scheduler(runtime: Runtime) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=runtime.rules.reports_timezone or "UTC")
    if runtime.rules.reports_channel and runtime.rules.reports_cron:
        trigger = CronTrigger.from_crontab(
            runtime.rules.reports_cron, timezone=runtime.rules.reports_timezone or "UTC"
        )
        scheduler.add_job(
            _scheduled_report, trigger, args=[runtime], id="report", coalesce=True, max_instances=1
        )
    scheduler.add_job(
        _sweep,
        "interval",
        seconds=runtime.sweep_seconds,
        args=[runtime],
        id="expire",
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    return scheduler
