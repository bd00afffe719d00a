"""The bot's timed jobs (bot.scheduler): a late report still goes out, once.

APScheduler's default ``misfire_grace_time`` is 1 s: a report due at 09:00 that the process
reaches at 09:00:02 (busy, suspended, restarted) would be skipped until next week. The report
job gets an hour and coalesces the firings it missed into one. The jobs are run here through
APScheduler's own ``run_job``, the function its executors call, with a chosen late run time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.executors.base import run_job

from solti.bot.scheduler import REPORT_MISFIRE_GRACE_SECONDS, BotScheduler


def _runtime(channel: str | None = "C0REPORTS") -> Any:
    rules = SimpleNamespace(
        reports_channel=channel, reports_cron="0 9 * * 1", reports_timezone="Europe/Paris"
    )
    return SimpleNamespace(rules=rules)


def _fire(job: Any, late: timedelta) -> int:
    """Run ``job`` as its executor would, ``late`` after it was due; the event's code."""
    events = run_job(job, "default", [datetime.now(UTC) - late], "solti.tests")
    assert len(events) == 1
    return int(events[0].code)


def test_the_report_job_has_an_hour_of_grace_and_coalesces() -> None:
    runtime = _runtime()
    scheduler = BotScheduler(runtime).build()
    scheduler.start(paused=True)
    try:
        report = scheduler.get_job("report")
        assert report.misfire_grace_time == REPORT_MISFIRE_GRACE_SECONDS == 3600
        assert report.coalesce and report.max_instances == 1
        assert str(report.trigger.timezone) == "Europe/Paris"
        runtime.rules.reports_channel = None  # the job body returns at once from here on
        assert _fire(report, timedelta(minutes=30)) == EVENT_JOB_EXECUTED
        assert _fire(report, timedelta(hours=2)) == EVENT_JOB_MISSED
    finally:
        scheduler.shutdown(wait=False)


def test_no_report_job_without_a_channel_but_the_sweep_always() -> None:
    scheduler = BotScheduler(_runtime(channel=None), sweep_seconds=5).build()
    scheduler.start(paused=True)
    try:
        assert scheduler.get_job("report") is None
        assert scheduler.get_job("expire").trigger.interval == timedelta(seconds=5)
    finally:
        scheduler.shutdown(wait=False)
