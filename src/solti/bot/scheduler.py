"""The bot's timed jobs: the template report on the policy's cron, the approval sweep, the
lease sweep and recovery (reconcile at start and every `recovery.interval`).

APScheduler's BackgroundScheduler runs the report (CronTrigger from ``reports.cron`` in
``reports.timezone``) when a report channel is set, the approval-expiry sweep, the lease sweep
and recovery. Each swallows and logs its errors: a failing report must not stop the next one.
The composition root (``solti.composition``) starts and stops it with the server; tests that
drive expiry and reports themselves simply never start it.

The report job may fire up to an hour late (``REPORT_MISFIRE_GRACE_SECONDS``) and runs once
however many firings it missed (``coalesce``): APScheduler's default grace of 1 s would skip
a Monday report because the process was busy or suspended for a second at 09:00.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from solti.bot.flows.approval_lifecycle import expire_due
from solti.bot.flows.leases import run_sweep
from solti.bot.notices import send_notices
from solti.bot.recovery import recover
from solti.bot.reports import post_report
from solti.bot.runtime import Runtime

__all__ = [
    "LEASE_SWEEP_SECONDS",
    "NOTICE_SECONDS",
    "RECOVERY_SECONDS",
    "REPORT_MISFIRE_GRACE_SECONDS",
    "SWEEP_SECONDS",
    "BotScheduler",
]

log = logging.getLogger("solti.bot.scheduler")
REPORT_MISFIRE_GRACE_SECONDS = 3600
SWEEP_SECONDS = 30.0
LEASE_SWEEP_SECONDS = 300.0
RECOVERY_SECONDS = 300.0  # without a policy's `recovery.interval`
NOTICE_SECONDS = 3600.0  # outdated-template notices: a new build is news for hours, not seconds


def scheduled_report(runtime: Runtime) -> None:
    channel = runtime.rules.reports_channel
    if not channel:
        return
    try:
        post_report(runtime, channel)
    except Exception:
        log.exception("scheduled template report failed")


def sweep(runtime: Runtime) -> None:
    try:
        expire_due(runtime)
    except Exception:
        log.exception("approval expiry sweep failed")


def template_notices(runtime: Runtime) -> None:
    try:
        send_notices(runtime)
    except Exception:
        log.exception("outdated-template notices failed")


def lease_sweep(runtime: Runtime) -> None:
    """Every cluster's leases (VMIDs are per cluster); one down never stops the others."""
    runtime.for_each_cluster(lambda: run_sweep(runtime), "lease sweep")


def recovery(runtime: Runtime) -> None:
    """Every cluster's interrupted operations; one down never stops the others."""
    runtime.for_each_cluster(lambda: recover(runtime), "recovery (reconcile)")


class BotScheduler:
    """The jobs of one runtime; ``start()`` and ``stop()`` are idempotent."""

    def __init__(self, runtime: Runtime, *, sweep_seconds: float = SWEEP_SECONDS) -> None:
        self.runtime = runtime
        self.sweep_seconds = sweep_seconds
        self.scheduler: BackgroundScheduler | None = None

    def build(self) -> BackgroundScheduler:
        """The scheduler with its jobs, not started (tests read the jobs from it)."""
        rules = self.runtime.rules
        timezone = rules.reports_timezone or "UTC"
        scheduler = BackgroundScheduler(timezone=timezone)
        if rules.reports_channel and rules.reports_cron:
            scheduler.add_job(
                scheduled_report,
                CronTrigger.from_crontab(rules.reports_cron, timezone=timezone),
                args=[self.runtime],
                id="report",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=REPORT_MISFIRE_GRACE_SECONDS,
            )
        scheduler.add_job(
            sweep,
            "interval",
            seconds=self.sweep_seconds,
            args=[self.runtime],
            id="expire",
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
        self.add_lease_sweep(scheduler)
        self.add_recovery(scheduler)
        self.add_template_notices(scheduler)
        return scheduler

    def add_template_notices(self, scheduler: BackgroundScheduler) -> None:
        """With ``reports.notify_owners``, every hour: DM owners about new template builds
        (each notice once: ``bot.notices`` remembers it in SQLite across restarts)."""
        if not getattr(self.runtime.rules, "notify_owners", False):
            return
        self._every(scheduler, template_notices, NOTICE_SECONDS, "template_notices")

    def add_recovery(self, scheduler: BackgroundScheduler) -> None:
        """Reconcile at start and every ``recovery.interval`` (``bot.recovery``): interrupted
        operations of a dead process are finished or undone and their Slack messages made
        final; those of a live process (this one, another bot, a CLI) are left alone."""
        recovery_policy = getattr(getattr(self.runtime, "policy", None), "recovery", None)
        interval = getattr(recovery_policy, "interval", None)
        seconds = interval.total_seconds() if interval else RECOVERY_SECONDS
        self._every(scheduler, recovery, seconds, "recovery")

    def _every(self, scheduler: BackgroundScheduler, job: Any, seconds: float, name: str) -> None:
        """``job(runtime)`` now and every ``seconds``; one run at a time, late runs merged."""
        scheduler.add_job(
            job,
            "interval",
            seconds=seconds,
            args=[self.runtime],
            id=name,
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )

    def add_lease_sweep(self, scheduler: BackgroundScheduler) -> None:
        """Leases every five minutes (reminders, expiries, removals; see provisioning.leases).

        The sweep's state is in SQLite, so a restart neither loses nor repeats its work, and
        another process sweeping at the same moment (``solti lease sweep``) is harmless.
        """
        self._every(scheduler, lease_sweep, LEASE_SWEEP_SECONDS, "lease_sweep")

    def start(self) -> None:
        if self.scheduler is None:
            self.scheduler = self.build()
            self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None:
            try:
                self.scheduler.shutdown(wait=False)
            except Exception:  # already stopped
                log.debug("scheduler already stopped")
            self.scheduler = None

    @property
    def running(self) -> bool:
        return self.scheduler is not None
