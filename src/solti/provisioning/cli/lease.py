"""`solti lease sweep`: the lease sweep the bot runs every five minutes, for operators and cron.

``--as-of`` evaluates the fleet as if it were that time ("what will happen next week" with
``--dry-run``); without ``--dry-run`` the actions are taken and recorded exactly as the bot's
sweep would, and a sweep the bot already made (or makes at the same moment) is not repeated.

With several clusters configured and no ``--cluster`` (or ``--cluster all``), every cluster is
swept at once (leases are per cluster): each action line names its cluster, and a cluster that
does not answer is named in one line while the others are swept (exit 1).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from solti.provisioning.cli.cluster_lists import chosen_provisioner, spanned
from solti.provisioning.cli.context import CliApp, GuardedGroup, json_option, pass_app
from solti.provisioning.clusters import split, unanswered_line, unanswered_reason
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
    """Send due reminders (recorded; the bot DMs them), stop or remove expired VMs.

    Without --cluster, every configured cluster."""
    app.authorize("lease sweep")

    def run(provisioner: Any) -> Any:
        return provisioner.sweep_leases(as_of=as_of, dry_run=dry_run, actor=app.actor, via="cli")

    answers = spanned(app, run)
    if answers is None:  # one cluster: the output it always had
        report = run(chosen_provisioner(app))
        if as_json:
            app.emit(report.as_json(), True)
            return
        app.emit(None, False, text="\n".join(_lines(report, dry_run)))
        if any(a.error for a in report.actions):
            raise SystemExit(1)
        return
    done, unanswered = split(answers)
    if as_json:
        parts: list[dict[str, Any]] = [{"cluster": a.cluster, **a.value.as_json()} for a in done]
        parts += [
            {"cluster": a.cluster, "error": unanswered_reason(a.cluster, a.error)}
            for a in unanswered
        ]
        app.emit({"clusters": parts}, True)
    else:
        lines = [line for a in done for line in _lines(a.value, dry_run, a.cluster)]
        lines += [unanswered_line(a.cluster, a.error) for a in unanswered]
        app.emit(None, False, text="\n".join(lines))
    if unanswered or any(action.error for a in done for action in a.value.actions):
        raise SystemExit(1)


def _lines(report: Any, dry_run: bool, cluster: str | None = None) -> list[str]:
    """The sweep's heading and one line per action; the heading names ``cluster`` if given."""
    verb = "would" if dry_run else "did"
    where = f" on cluster {cluster}" if cluster else ""
    count = len(report.actions)
    lines = [f"lease sweep{where} as of {when(report.as_of)}: {count} action(s) ({verb})"]
    for action in report.actions:
        failed = f" FAILED: {action.error}" if action.error else ""
        lines.append(
            f"  {action.action:<6} VM {action.vmid} (owner {action.owner}), "
            f"lease ends {when(action.lease_expires_at)}{failed}"
        )
    return lines
