"""`solti reconcile`: finish or undo interrupted operations and report drift (``reconcile``)."""

from __future__ import annotations

import json
import sys

import click

from solti.provisioning.cli.context import CliApp, cluster_option, guarded, pass_app, yes_option

__all__ = ["reconcile_command"]

COLUMNS = ("kind", "vmid", "found", "plan", "done")


@click.command("reconcile")
@click.option("--dry-run", is_flag=True, help="Report what would be done; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of a table.")
@yes_option
@cluster_option
@pass_app
@guarded
def reconcile_command(app: CliApp, dry_run: bool, as_json: bool, yes: bool) -> None:
    """Finish or undo interrupted operations; list drift between PVE and the audit log.

    Exit 0 when nothing needs a person, 1 when something does, 2 on bad usage.
    """
    app.authorize("reconcile")
    from solti.provisioning.config import load_policy
    from solti.provisioning.reconciliation import Report, carry_out, survey

    policy = load_policy(app.environ.get("SOLTI_CONFIG") or None)
    ops = app.provisioner.ops
    findings = survey(ops, stale_after=policy.recovery.stale_after)
    if dry_run:
        report = Report(findings)
        for finding in report.findings:
            finding.done = "nothing (dry run)"
            finding.person = finding.person or finding.kind == "interrupted"
    else:
        destructive = any(f.destructive for f in findings)
        allowed = yes or not destructive
        if destructive and not yes and sys.stdin.isatty():
            count = sum(f.destructive for f in findings)
            allowed = click.confirm(f"Remove {count} half-made VM(s)?", default=False, err=True)
        report = carry_out(ops, findings, destructive=allowed)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
    elif not report.findings:
        click.echo("Nothing to reconcile: no interrupted operation, no drift.")
    else:
        rows = [{k: v for k, v in f.as_dict().items() if k in COLUMNS} for f in report.findings]
        app.emit(rows, False, columns=COLUMNS, title="Reconcile")
    sys.exit(1 if report.needs_person else 0)
