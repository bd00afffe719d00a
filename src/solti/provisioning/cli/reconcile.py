"""`solti reconcile`: finish or undo interrupted operations and report drift (``reconcile``).

With several clusters configured and no ``--cluster`` (or ``--cluster all``), every cluster is
surveyed at once (``cluster_lists.spanned``); the half-made VMs of all of them are confirmed in
one question, each row says its cluster, and a cluster that does not answer is named in one
line while the others are reconciled (exit 1: it needs a person).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from solti.provisioning.cli.cluster_lists import chosen_provisioner, spanned
from solti.provisioning.cli.context import CliApp, cluster_option, guarded, pass_app, yes_option
from solti.provisioning.clusters import split, unanswered_line, unanswered_reason

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

    Without --cluster, every configured cluster. Exit 0 when nothing needs a person, 1 when
    something does (a cluster that did not answer too), 2 on bad usage.
    """
    app.authorize("reconcile")
    from solti.provisioning.config import load_policy
    from solti.provisioning.reconciliation import survey

    policy = load_policy(app.environ.get("SOLTI_CONFIG") or None)
    stale_after = policy.recovery.stale_after
    answers = spanned(app, lambda p: survey(p.ops, stale_after=stale_after))
    if answers is None:  # one cluster: the output it always had
        ops = chosen_provisioner(app).ops
        findings = survey(ops, stale_after=stale_after)
        report = _settle(ops, findings, dry_run, _allowed([findings], dry_run, yes))
        _print_one(app, report, as_json)
        sys.exit(1 if report.needs_person else 0)
    answered, unanswered = split(answers)
    allowed = _allowed([a.value for a in answered], dry_run, yes)
    found = {a.cluster: a.value for a in answered}
    settled = app.clusters.each_named(
        lambda name: _settle(app.clusters.get(name).ops, found[name], dry_run, allowed),
        [a.cluster for a in answered],
    )
    done, failed = split(settled)
    unanswered += failed
    needs_person = bool(unanswered) or any(a.value.needs_person for a in done)
    if as_json:
        parts: list[dict[str, Any]] = [{"cluster": a.cluster, **a.value.as_dict()} for a in done]
        parts += [
            {"cluster": a.cluster, "error": unanswered_reason(a.cluster, a.error)}
            for a in unanswered
        ]
        click.echo(
            json.dumps({"needs_person": needs_person, "clusters": parts}, indent=2, default=str)
        )
    else:
        _print_many(app, done, unanswered)
    sys.exit(1 if needs_person else 0)


def _allowed(found: list[list[Any]], dry_run: bool, yes: bool) -> bool:
    """Whether half-made VMs may be removed: ``--yes``, none to remove, or a yes at a
    terminal (one question for every cluster)."""
    count = sum(f.destructive for findings in found for f in findings)
    if dry_run or yes or not count:
        return yes or not count
    if sys.stdin.isatty():
        return click.confirm(f"Remove {count} half-made VM(s)?", default=False, err=True)
    return False


def _settle(ops: Any, findings: list[Any], dry_run: bool, allowed: bool) -> Any:
    """The report of one cluster: what would be done (dry run), or what was done."""
    from solti.provisioning.reconcile_actions import carry_out
    from solti.provisioning.reconciliation import Report

    if not dry_run:
        return carry_out(ops, findings, destructive=allowed)
    report = Report(findings)
    for finding in report.findings:
        finding.done = "nothing (dry run)"
        finding.person = finding.person or finding.kind == "interrupted"
    return report


def _rows(report: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in f.as_dict().items() if k in COLUMNS} for f in report.findings]


def _print_one(app: CliApp, report: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
    elif not report.findings:
        click.echo("Nothing to reconcile: no interrupted operation, no drift.")
    else:
        app.emit(_rows(report), False, columns=COLUMNS, title="Reconcile")


def _print_many(app: CliApp, done: list[Any], unanswered: list[Any]) -> None:
    """One table with a cluster column; the clean clusters named; the silent ones named."""
    rows = [{"cluster": a.cluster, **row} for a in done for row in _rows(a.value)]
    clean = [a.cluster for a in done if not a.value.findings]
    if rows:
        app.emit(rows, False, columns=("cluster", *COLUMNS), title="Reconcile")
    if clean:
        where = ", ".join(clean)
        click.echo(f"Nothing to reconcile on cluster {where}: no interrupted operation, no drift.")
    for answer in unanswered:
        click.echo(unanswered_line(answer.cluster, answer.error))
