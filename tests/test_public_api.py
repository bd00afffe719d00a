"""The provisioning front door: ``__all__`` is exactly what the package exports on purpose."""

from __future__ import annotations

import importlib
import inspect

import provisioning

EXPECTED = {
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
}
# Added by service.py's owner; allowed (and then required) once it exists.
FACADE = {"Provisioner"}


def test_all_is_the_curated_list() -> None:
    names = set(provisioning.__all__)
    assert len(names) == len(provisioning.__all__), "duplicates in __all__"
    assert names >= EXPECTED
    assert names - EXPECTED <= FACADE


def test_every_listed_name_is_exported() -> None:
    for name in provisioning.__all__:
        assert getattr(provisioning, name, None) is not None, name


def test_no_public_name_escapes_the_list() -> None:
    public = {
        name
        for name, value in vars(provisioning).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(provisioning.__all__)


def test_exported_names_live_in_provisioning() -> None:
    for name in provisioning.__all__:
        module = getattr(provisioning, name).__module__
        assert module.startswith("provisioning."), (name, module)


def test_error_tree() -> None:
    errors = importlib.import_module("provisioning.errors")
    for name in ("InvalidRequest", "NotFound", "Conflict", "RangeExhausted", "PolicyDenied",
                 "ConfigError", "ProxmoxError"):  # fmt: skip
        assert issubclass(getattr(errors, name), errors.SoltiError)
    for name in ("TaskFailed", "TaskTimeout", "Unreachable"):
        assert issubclass(getattr(errors, name), errors.ProxmoxError)
