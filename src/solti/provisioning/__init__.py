"""The Proxmox domain: templates, VMs, the audit log and the operator CLI verbs.

This is the one front door: ``bot/`` and the CLI import only names listed in ``__all__``
(guarded by ``tests/test_public_api.py``). Modules behind it may change freely.
"""

from solti.provisioning.audit import AuditLog
from solti.provisioning.catalog import Catalog, CatalogEntry
from solti.provisioning.cloudinit import SshKey, parse_ssh_key
from solti.provisioning.config import Policy, ProxmoxSettings, load_policy
from solti.provisioning.errors import (
    ConfigError,
    Conflict,
    InvalidRequest,
    NotFound,
    PolicyDenied,
    ProxmoxError,
    RangeExhausted,
    SoltiError,
    TaskFailed,
    TaskTimeout,
    Unreachable,
)
from solti.provisioning.models import (
    AuditRecord,
    Progress,
    TemplateBuildRequest,
    TemplateBuildResult,
    TemplateInfo,
    UpdateStatus,
    VmCreateRequest,
    VmCreateResult,
    VmInfo,
    VmPlan,
    parse_request,
)
from solti.provisioning.service import Provisioner
from solti.provisioning.sizes import Size

__all__ = [
    "AuditLog",
    "AuditRecord",
    "Catalog",
    "CatalogEntry",
    "ConfigError",
    "Conflict",
    "InvalidRequest",
    "NotFound",
    "Policy",
    "PolicyDenied",
    "Progress",
    "Provisioner",
    "ProxmoxError",
    "ProxmoxSettings",
    "RangeExhausted",
    "Size",
    "SoltiError",
    "SshKey",
    "TaskFailed",
    "TaskTimeout",
    "TemplateBuildRequest",
    "TemplateBuildResult",
    "TemplateInfo",
    "Unreachable",
    "UpdateStatus",
    "VmCreateRequest",
    "VmCreateResult",
    "VmInfo",
    "VmPlan",
    "load_policy",
    "parse_request",
    "parse_ssh_key",
]
