"""The configuration reference is generated from the models and matches what ships."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from solti.provisioning.config import load_policy

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "configuration.md"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_config_reference", ROOT / "scripts" / "gen_config_reference.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _documented_variables(text: str) -> set[str]:
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", text, flags=re.MULTILINE))


def test_committed_page_is_what_the_script_generates() -> None:
    expected = _generator().render()
    assert PAGE.read_text("utf-8") == expected, (
        "docs/configuration.md is out of date: run .venv/bin/python scripts/gen_config_reference.py"
    )


def test_every_variable_is_in_env_example() -> None:
    documented = _documented_variables(PAGE.read_text("utf-8"))
    assert {"PROXMOX_URL", "SLACK_BOT_TOKEN", "SOLTI_DB", "SOLTI_LOG_FORMAT"} <= documented
    example = set(
        re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE)
    )
    assert documented == example


def test_env_example_holds_no_secret() -> None:
    for line in (ROOT / ".env.example").read_text().splitlines():
        name, _, value = line.partition("=")
        if any(word in name for word in ("SECRET", "TOKEN_SECRET", "BOT_TOKEN", "APP_TOKEN")):
            assert value == "", f"{name} must be empty in .env.example"


def test_policy_example_in_the_page_is_valid(tmp_path: Path) -> None:
    text = PAGE.read_text("utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "the page shows an example policy"
    for index, block in enumerate(blocks):
        path = tmp_path / f"example{index}.yaml"
        path.write_text(block)
        policy = load_policy(path)
        assert policy.defaults.image_storage
