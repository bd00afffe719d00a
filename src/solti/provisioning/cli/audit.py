"""`solti audit`: show or export the audit log (needs only ``SOLTI_DB``)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from solti.provisioning.cli.context import CliApp, cluster_option, guarded, pass_app

__all__ = ["audit_command"]

COLUMNS = ("at", "actor", "via", "action", "vmid", "name", "template_name", "template_version",
           "result", "error", "cluster")  # fmt: skip


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date, e.g. 2026-01-31 or 2026-01-31T09:00"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@click.command("audit")
@click.option("--user", help="Only actions by this actor.")
@click.option("--vmid", type=int, help="Only actions on this VMID.")
@click.option("--template", help="Only actions from this template (VMID or name).")
@click.option("--since", help="From this date/time (ISO 8601, inclusive).")
@click.option("--until", help="Before this date/time (ISO 8601).")
@click.option("--limit", type=int, default=100, show_default=True, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print the records as one JSON document.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the records as CSV.")
@cluster_option
@pass_app
@guarded
def audit_command(
    app: CliApp,
    user: str | None,
    vmid: int | None,
    template: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Who did what, to which VM, from which template version."""
    app.authorize("audit")
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    records = app.audit.query(
        user=user, vmid=vmid, template=template, since=_when(since), until=_when(until),
        limit=limit, cluster=app.cluster,
    )  # fmt: skip
    if as_json:
        click.echo(app.audit.to_json(records))
    elif as_csv:
        click.echo(app.audit.to_csv(records), nl=False)
    else:
        app.emit(records, False, columns=COLUMNS, title="Audit log")
