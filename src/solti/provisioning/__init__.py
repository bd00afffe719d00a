"""The Proxmox domain: templates, VMs, the audit log and the operator CLI verbs.

This is the one front door: ``bot/`` and the CLI import only names listed in ``__all__``
(guarded by ``tests/test_public_api.py``). Modules behind it may change freely.

The names are loaded on first use (PEP 562 ``__getattr__``), not when the package is imported:
every ``solti vm ...`` imports this package on its way to ``provisioning.cli``, and loading the
whole domain (pydantic models, sqlite-utils, requests) up front cost ``solti vm --help`` about
0.4 s. The ``TYPE_CHECKING`` block keeps the same names visible to type checkers and to "go to
definition".
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from solti.provisioning.audit_log import AuditLog
    from solti.provisioning.catalog import Catalog, CatalogEntry
    from solti.provisioning.cloudinit import SshKey, parse_ssh_key
    from solti.provisioning.clusters import ClusterAnswer, Clusters
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

# Exported name -> the module that defines it (the same pairs as the block above).
_SOURCES: dict[str, str] = {
    "AuditLog": "audit_log",
    **dict.fromkeys(("Catalog", "CatalogEntry"), "catalog"),
    **dict.fromkeys(("SshKey", "parse_ssh_key"), "cloudinit"),
    **dict.fromkeys(("ClusterAnswer", "Clusters"), "clusters"),
    **dict.fromkeys(("Policy", "ProxmoxSettings", "load_policy"), "config"),
    **dict.fromkeys(
        (
            "ConfigError",
            "Conflict",
            "InvalidRequest",
            "NotFound",
            "PolicyDenied",
            "ProxmoxError",
            "RangeExhausted",
            "SoltiError",
            "TaskFailed",
            "TaskTimeout",
            "Unreachable",
        ),
        "errors",
    ),
    **dict.fromkeys(
        (
            "AuditRecord",
            "Progress",
            "TemplateBuildRequest",
            "TemplateBuildResult",
            "TemplateInfo",
            "UpdateStatus",
            "VmCreateRequest",
            "VmCreateResult",
            "VmInfo",
            "VmPlan",
            "parse_request",
        ),
        "models",
    ),
    "Provisioner": "service",
    "Size": "sizes",
}


def __getattr__(name: str) -> _typing.Any:
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "AuditLog",
    "AuditRecord",
    "Catalog",
    "CatalogEntry",
    "ClusterAnswer",
    "Clusters",
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
