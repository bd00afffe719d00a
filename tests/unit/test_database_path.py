"""A ``SOLTI_DB`` whose directory does not exist is refused, naming it.

Before, the directory was created silently: a typo in the path started a fresh, empty audit
log (and fresh quotas, keys and approvals) somewhere else.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from solti.composition import ConfigurationError, load_configuration
from tests.cli.clihelpers import solti

BOT_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_SIGNING_SECRET": "secret",
    "PROXMOX_URL": "https://127.0.0.1:8006",
    "PROXMOX_TOKEN_ID": "root@pam!solti",
    "PROXMOX_TOKEN_SECRET": "00000000-0000-0000-0000-000000000000",
}


def test_the_bot_refuses_a_database_in_a_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "solti.db"
    with pytest.raises(ConfigurationError) as refused:
        load_configuration({**BOT_ENV, "SOLTI_DB": str(missing)})
    assert f"SOLTI_DB: the directory '{missing.parent}'" in str(refused.value)
    assert not missing.parent.exists()


def test_the_bot_creates_a_new_database_in_an_existing_directory(tmp_path: Path) -> None:
    config = load_configuration({**BOT_ENV, "SOLTI_DB": str(tmp_path / "solti.db")})
    assert config.settings.solti_db == tmp_path / "solti.db"


def test_the_cli_refuses_a_database_in_a_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "solti.db"
    result = solti({"SOLTI_DB": str(missing)}, "audit")
    assert result.exit_code != 0
    assert "does not exist" in result.output and str(missing.parent) in result.output
    assert "Traceback" not in result.output
    assert not missing.parent.exists()
