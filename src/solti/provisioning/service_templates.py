"""The template verbs of ``Provisioner`` (build, copies on every node, list, verify, destroy,
updates), apart from the VM verbs so the façade stays readable; ``Provisioner`` inherits them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from solti.provisioning.models import (
    Progress,
    TemplateBuildRequest,
    TemplateBuildResult,
    TemplateInfo,
    UpdateStatus,
)
from solti.provisioning.strict_models import coerce_request as _request

if TYPE_CHECKING:
    from solti.provisioning import template_build, template_copies, template_lifecycle
    from solti.provisioning.catalog import Catalog
    from solti.provisioning.collaborators import Collaborators
else:

    class _OnFirstUse:
        """A template module, imported with the others by the first template verb: a create
        never loads them (~1 % of a `solti vm create`, docs/performance.md "Start-up")."""

        def __init__(self, name: str) -> None:
            self._name = name

        def __getattr__(self, attr: str) -> Any:
            from solti.provisioning import template_build, template_copies, template_lifecycle

            globals().update(
                template_build=template_build,
                template_copies=template_copies,
                template_lifecycle=template_lifecycle,
            )
            return getattr(globals()[self._name], attr)

    template_build = _OnFirstUse("template_build")
    template_copies = _OnFirstUse("template_copies")
    template_lifecycle = _OnFirstUse("template_lifecycle")

__all__ = ["TemplateVerbs"]

ProgressFn = Callable[[Progress], None] | None


class TemplateVerbs:
    """Mixed into ``Provisioner``, which provides ``ops`` and ``catalog``."""

    ops: Collaborators
    catalog: Catalog

    def build_template(
        self,
        request: TemplateBuildRequest | dict[str, Any] | str,
        *,
        progress: ProgressFn = None,
        actor: str = "unknown",
        via: str = "cli",
        request_id: str | None = None,
        approver: str | None = None,
    ) -> TemplateBuildResult:
        """Build a template; ``approver`` (who allowed it) is recorded in the audit log."""
        if isinstance(request, str):
            request = {"distribution": request}
        req = _request(TemplateBuildRequest, request, request_id=request_id)
        return template_build.build_template(
            self.ops, req, progress=progress, actor=actor, via=via, approver=approver
        )

    def template_copy_nodes(
        self, request: TemplateBuildRequest | dict[str, Any] | str
    ) -> tuple[list[str], str | None]:
        """Where ``--all-nodes`` would build: every online node, or one node and the shared
        template storage that makes one template enough (``template_copies.copy_nodes``)."""
        if isinstance(request, str):
            request = {"distribution": request}
        req = _request(TemplateBuildRequest, request)
        self.catalog.get(req.distribution)  # NotFound before anything else
        return template_copies.copy_nodes(self.ops, req)

    def build_template_copies(
        self,
        request: TemplateBuildRequest | dict[str, Any] | str,
        *,
        actor: str = "unknown",
        via: str = "cli",
        request_id: str | None = None,
        approver: str | None = None,
        progress: Callable[[int, Progress], None] | None = None,
        finished: Callable[[template_copies.CopyItem], None] | None = None,
    ) -> template_copies.CopiesResult:
        """``template build DISTRO --all-nodes``: one copy per online node from one checksum
        answer, in parallel; or one template when the template storage is shared."""
        if isinstance(request, str):
            request = {"distribution": request}
        req = _request(TemplateBuildRequest, request, request_id=request_id)
        self.catalog.get(req.distribution)
        return template_copies.build_copies(
            self.ops, req, actor=actor, via=via, approver=approver, progress=progress,
            finished=finished,
        )  # fmt: skip

    def list_templates(self, distribution: str | None = None) -> list[TemplateInfo]:
        return template_lifecycle.list_templates(self.ops, distribution)

    def verify_template(self, vmid: int) -> TemplateInfo:
        return template_lifecycle.verify_template(self.ops, vmid)

    def destroy_template(
        self,
        vmid: int,
        *,
        actor: str = "unknown",
        via: str = "cli",
        request_id: str | None = None,
        approver: str | None = None,
        progress: ProgressFn = None,
    ) -> None:
        """Destroy a template; ``approver`` (who allowed it) is recorded in the audit log."""
        template_lifecycle.destroy_template(
            self.ops,
            vmid,
            actor=actor,
            via=via,
            approver=approver,
            request_id=request_id,
            progress=progress,
        )

    def check_updates(self, distribution: str | None = None) -> list[UpdateStatus]:
        return template_lifecycle.check_updates(self.ops, distribution)
