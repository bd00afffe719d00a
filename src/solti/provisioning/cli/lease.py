"""`solti lease sweep`: the lease sweep the bot runs every five minutes, for operators and cron.

``--as-of`` evaluates the fleet as if it were that time ("what will happen next week" with
``--dry-run``); without ``--dry-run`` the actions are taken and recorded exactly as the bot's
sweep would, and a sweep the bot already made (or makes at the same moment) is not repeated.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from solti.provisioning.cli.context import CliApp, GuardedGroup, json_option, pass_app
from solti.provisioning.lease_book import when

__all__ = ["lease_group"]


class _Moment(click.ParamType):
    name = "ISO-8601"

    def convert(self, value: object, param: object, ctx: object) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{value!r} is not an ISO-8601 time, e.g. 2026-12-24T09:00:00Z")
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.group("lease", cls=GuardedGroup)
def lease_group() -> None:
    """VM leases: the sweep that reminds, stops and removes."""


@lease_group.command("sweep")
@click.option("--as-of", "as_of", type=_Moment(), help="Evaluate as if it were this time (UTC).")
@click.option("--dry-run", is_flag=True, help="Say what is due; change nothing.")
@json_option
@pass_app
def sweep(app: CliApp, as_of: datetime | None, dry_run: bool, as_json: bool) -> None:
    """Send due reminders (recorded; the bot DMs them), stop or remove expired VMs."""
    app.authorize("lease sweep")
    report = app.provisioner.sweep_leases(as_of=as_of, dry_run=dry_run, actor=app.actor, via="cli")
    if as_json:
        app.emit(report.as_json(), True)
        return
    verb = "would" if dry_run else "did"
    lines = [f"lease sweep as of {when(report.as_of)}: {len(report.actions)} action(s) ({verb})"]
    for action in report.actions:
        failed = f" FAILED: {action.error}" if action.error else ""
        lines.append(
            f"  {action.action:<6} VM {action.vmid} (owner {action.owner}), "
            f"lease ends {when(action.lease_expires_at)}{failed}"
        )
    app.emit(None, False, text="\n".join(lines))
    if any(a.error for a in report.actions):
        raise SystemExit(1)
