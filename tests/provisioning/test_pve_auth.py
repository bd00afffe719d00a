"""A rejected API token is one actionable error naming PROXMOX_TOKEN_ID, never the secret."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from solti.cli import main
from solti.provisioning.errors import ProxmoxError
from solti.provisioning.pve import PveClient, TokenRejected, token_rejected_message
from solti.sandbox.environment import SimEnvironment

WRONG = "11111111-2222-3333-4444-555555555555"


def _client(world: SimEnvironment, token_id: str, secret: str) -> PveClient:
    return PveClient.connect(world.pve.url, token_id, secret, verify=str(world.pve.ca_path))


@pytest.mark.parametrize("token_id", ["root@pam!solti", "root@pam!deleted", "ghost@pve!x"])
def test_wrong_secret_or_unknown_token(world: SimEnvironment, token_id: str) -> None:
    with pytest.raises(TokenRejected) as caught:
        _client(world, token_id, WRONG).version()
    error = caught.value
    assert isinstance(error, ProxmoxError) and error.status == 401 and error.errors == {}
    assert str(error).startswith(
        f"Proxmox rejected the API token PROXMOX_TOKEN_ID={token_id}: check the secret and "
        "that the token exists"
    )
    assert "Authentication failed!" in str(error)  # PVE's own words stay, at the end
    assert WRONG not in str(error)


def test_the_right_token_still_works(world: SimEnvironment) -> None:
    assert _client(world, world.pve.token_id, world.pve.token_secret).version()["version"]


def test_a_secret_pasted_into_the_id_is_not_echoed() -> None:
    text = token_rejected_message(f"root@pam!solti={WRONG}", "pve:8006", "Authentication failed!")
    assert "PROXMOX_TOKEN_ID=root@pam!solti:" in text and WRONG not in text
    assert "PROXMOX_TOKEN_ID=(not set)" in token_rejected_message(None, "pve:8006")


def test_cli_prints_one_line_without_the_secret(world: SimEnvironment, tmp_path) -> None:
    env = {**world.env, "PROXMOX_TOKEN_SECRET": WRONG, "SOLTI_DB": str(tmp_path / "s.db")}
    result = CliRunner().invoke(main, ["vm", "list"], env=env, catch_exceptions=False)
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "PROXMOX_TOKEN_ID=root@pam!solti" in lines[0]
    assert WRONG not in result.output + result.stderr
