"""`solti template build|list|verify|destroy|updates`: one verb per function."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from solti.provisioning.cli.context import (
    CliApp,
    GuardedGroup,
    fail,
    json_option,
    pass_app,
    yes_option,
)
from solti.provisioning.errors import SoltiError

if TYPE_CHECKING:  # the models (pydantic) load when a verb runs, not for --help
    from solti.provisioning.models import TemplateBuildResult

__all__ = ["template_group"]

TEMPLATE_COLUMNS = ("vmid", "name", "distribution", "version", "disk_size", "build_date",
                    "builder", "node")  # fmt: skip
SUMMARY_COLUMNS = ("distribution", "result", "vmid", "version", "downloaded", "error")


@click.group("template", cls=GuardedGroup)
def template_group() -> None:
    """Build, list, verify and destroy templates (VMIDs 9000-9999)."""


@template_group.command("build")
@click.argument("distribution", required=False)
@click.option("--all", "build_all", is_flag=True, help="Build every catalog distribution.")
@click.option("--node", help="Target node (default: policy or the first node).")
@click.option(
    "--all-nodes",
    is_flag=True,
    help="A copy on every online node (local storage), from one download's checksum; "
    "one template when the template storage is shared.",
)
@click.option("--disk", help="Template disk size, e.g. 10G (grown if the image is smaller).")
@click.option("--secure-boot", is_flag=True, help="Pre-enrol Secure Boot keys.")
@click.option("--request-id", help="Re-running with the same id makes no second template.")
@json_option
@pass_app
def build(
    app: CliApp,
    distribution: str | None,
    build_all: bool,
    node: str | None,
    all_nodes: bool,
    disk: str | None,
    secure_boot: bool,
    request_id: str | None,
    as_json: bool,
) -> None:
    """Build a template of DISTRIBUTION from its official cloud image.

    With --all every catalog distribution is built in turn; one failing does not stop the
    others, a summary table (or JSON list) says what became of each, and the exit code is 1
    when any failed.
    """
    app.authorize("template build")
    p = app.provisioner
    if build_all == bool(distribution):
        raise click.UsageError("give one DISTRIBUTION or --all")
    if all_nodes:
        if build_all or node:
            raise click.UsageError("--all-nodes builds one DISTRIBUTION on every node; "
                                   "drop --all and --node")  # fmt: skip
        from solti.provisioning.cli.template_copies_cli import build_on_all_nodes

        request = {"distribution": distribution, "disk": disk, "secure_boot": secure_boot}
        build_on_all_nodes(app, {k: v for k, v in request.items() if v is not None}, request_id,
                           as_json)  # fmt: skip
        return
    names = list(p.catalog.names) if build_all else [distribution]
    summary: list[dict[str, Any]] = []
    for name in names:
        request = {"distribution": name, "node": node, "disk": disk, "secure_boot": secure_boot}
        try:
            with app.progress(f"build {name}") as progress:
                result = p.build_template(
                    {k: v for k, v in request.items() if v is not None},
                    progress=progress,
                    actor=app.actor,
                    via="cli",
                    request_id=f"{request_id}-{name}" if request_id and build_all else request_id,
                )
        except SoltiError as exc:
            if not build_all:
                raise
            summary.append(summary_row(name, error=str(exc)))
            continue
        if not build_all:
            shown = result if as_json else [result.template]
            app.emit(shown, as_json, columns=TEMPLATE_COLUMNS, title="Built")
            return
        summary.append(summary_row(name, result=result))
    app.emit(summary, as_json, columns=SUMMARY_COLUMNS, title="Template builds")
    failed = [row["distribution"] for row in summary if row["result"] == "failed"]
    if failed:
        fail(f"{len(failed)} of {len(summary)} builds failed: {', '.join(failed)}")


def summary_row(
    distribution: str, *, result: TemplateBuildResult | None = None, error: str | None = None
) -> dict[str, Any]:
    """One line of the --all summary: what was built (or reused) and where, or why not."""
    if result is None:
        return {"distribution": distribution, "result": "failed", "vmid": None, "version": None,
                "downloaded": None, "error": error}  # fmt: skip
    return {
        "distribution": distribution,
        "result": "reused" if result.reused else "built",
        "vmid": result.template.vmid,
        "version": result.template.version,
        "downloaded": result.downloaded,
        "error": None,
    }


@template_group.command("list")
@click.option("--distribution", help="Only this distribution.")
@json_option
@pass_app
def list_(app: CliApp, distribution: str | None, as_json: bool) -> None:
    """Every template with its metadata, latest build of each distribution first."""
    app.authorize("template list")
    from solti.provisioning.cli.cluster_lists import list_on_clusters
    from solti.provisioning.cli.template_copies_cli import grouped_rows

    list_on_clusters(app, lambda p: p.list_templates(distribution), as_json,
                     columns=TEMPLATE_COLUMNS, title="Templates",
                     text_rows=grouped_rows)  # fmt: skip


@template_group.command("verify")
@click.argument("vmid", type=int)
@json_option
@pass_app
def verify(app: CliApp, vmid: int, as_json: bool) -> None:
    """Check a template is complete (flag, base disk, cloud-init drive, metadata)."""
    app.authorize("template verify", vmid)
    info = app.provisioner.verify_template(vmid)
    app.emit(info, as_json, text=f"template {vmid} ({info.name} {info.version or ''}) is OK")


@template_group.command("destroy")
@click.argument("vmid", type=int)
@click.option("--all-copies", is_flag=True, help="Also destroy the build's copies on other nodes.")
@yes_option
@json_option
@pass_app
def destroy(app: CliApp, vmid: int, all_copies: bool, yes: bool, as_json: bool) -> None:
    """Remove a template (refused while linked clones use it); the question names every copy
    of its build on other nodes."""
    app.authorize("template destroy", vmid)
    from solti.provisioning.cli.template_copies_cli import destroy_with_copies

    targets = destroy_with_copies(app, vmid, all_copies, yes)
    for each in targets:
        app.provisioner.destroy_template(each, actor=app.actor, via="cli")
    done = [{"vmid": each, "destroyed": True} for each in targets]
    text = "\n".join(f"template {each} destroyed" for each in targets)
    app.emit(done[0] if len(done) == 1 else done, as_json, text=text)


@template_group.command("updates")
@click.argument("distribution", required=False)
@json_option
@pass_app
def updates(app: CliApp, distribution: str | None, as_json: bool) -> None:
    """Compare upstream images with the latest template of each distribution."""
    app.authorize("template updates")
    statuses = app.provisioner.check_updates(distribution)
    columns = ("distribution", "state", "template_vmid", "template_version", "upstream_version",
               "reason")  # fmt: skip
    app.emit(statuses, as_json, columns=columns, title="Template updates")
