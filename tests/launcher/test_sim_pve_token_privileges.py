"""``solti sim pve --token-privileges FILE``: a least-privilege token from outside the process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from proxmoxer import ResourceException

from tests.launcher.test_sim_pve import _client, _launch, _terminate


def test_the_token_holds_only_what_the_file_grants(tmp_path: Path) -> None:
    acl = tmp_path / "acl.json"
    acl.write_text(json.dumps({"/": ["VM.Audit", "Sys.Audit"]}))
    launched = _launch("--token-privileges", str(acl))
    try:
        api = _client(launched.ready["env"])
        assert api.access.permissions.get(path="/") == {"/": {"VM.Audit": 1, "Sys.Audit": 1}}
        with pytest.raises(ResourceException) as info:
            api.nodes("pve").qemu.post(vmid=100)
        assert info.value.status_code == 403
    finally:
        code, _, stderr = _terminate(launched)
    assert code == 0, stderr


def test_an_unknown_privilege_is_refused_before_start(tmp_path: Path) -> None:
    acl = tmp_path / "acl.json"
    acl.write_text(json.dumps({"/": ["VM.Everything"]}))
    result = subprocess.run(
        [sys.executable, "-m", "solti.cli", "sim", "pve", "--token-privileges", str(acl)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown privilege 'VM.Everything' on /" in result.stderr
    assert "Traceback" not in result.stderr
