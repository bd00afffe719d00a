"""The provisioning front door: ``__all__`` is exactly what the package exports on purpose."""

from __future__ import annotations

import importlib
import inspect
import shutil
import subprocess
from pathlib import Path

import pytest

from solti import provisioning

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
    "SshKey",
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
    "parse_ssh_key",
    "ClusterAnswer",
    "Clusters",
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
    for name in provisioning.__all__:  # the names load on first use; load them all
        getattr(provisioning, name)
    public = {
        name
        for name, value in vars(provisioning).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(provisioning.__all__)


def test_exported_names_live_in_provisioning() -> None:
    for name in provisioning.__all__:
        module = getattr(provisioning, name).__module__
        assert module.startswith("solti.provisioning."), (name, module)


def test_error_tree() -> None:
    errors = importlib.import_module("solti.provisioning.errors")
    for name in ("InvalidRequest", "NotFound", "Conflict", "RangeExhausted", "PolicyDenied",
                 "ConfigError", "ProxmoxError"):  # fmt: skip
        assert issubclass(getattr(errors, name), errors.SoltiError)
    for name in ("TaskFailed", "TaskTimeout", "Unreachable"):
        assert issubclass(getattr(errors, name), errors.ProxmoxError)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_parse_ssh_key_is_what_bot_needs(tmp_path: Path) -> None:
    """The bot validates and fingerprints keys with the same rules a create applies."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bob@laptop", "-f", tmp_path / "k"],
        check=True,
    )
    line = (tmp_path / "k.pub").read_text().strip()
    expected = subprocess.run(
        ["ssh-keygen", "-l", "-f", tmp_path / "k.pub"], check=True, capture_output=True, text=True
    ).stdout.split()[1]
    key = provisioning.parse_ssh_key("  " + line.replace(" ", "   ") + "\n")
    assert isinstance(key, provisioning.SshKey)
    assert key.line == line
    assert key.fingerprint == expected
    assert key.label == "bob@laptop"
    with pytest.raises(provisioning.InvalidRequest) as info:
        provisioning.parse_ssh_key("ssh-ed25519 not-base64!")
    assert info.value.field == "ssh_keys"


def test_the_lazy_table_lists_every_name() -> None:
    assert set(provisioning._SOURCES) == set(provisioning.__all__)
