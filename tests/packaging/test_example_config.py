"""The examples an operator copies (policy.example.yaml, .env.example) load and are complete, and
compose.yaml mounts exactly the files its own instructions tell people to make from them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import yaml
from pydantic import BaseModel

from solti.provisioning.config import Policy, load_policy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "policy.example.yaml"
COMPOSE = ROOT / "compose.yaml"


def _sections() -> dict[str, type[BaseModel]]:
    """Policy's nested sections (quotas, approvals, reports, defaults): name -> model."""
    out: dict[str, type[BaseModel]] = {}
    for name, field in Policy.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out[name] = annotation
    return out


def test_policy_example_loads() -> None:
    policy = load_policy(EXAMPLE)
    assert policy.approvers and policy.approvals_channel
    assert policy.quotas.max_vms_per_user == 5
    assert policy.reports.timezone == "Europe/Berlin"
    assert {"rocky9", "mydistro"} <= set(policy.distributions)
    # A new distribution carries the three keys a new entry needs.
    new = policy.distributions["mydistro"]
    assert new.image_url and new.checksum_url and new.checksum_algorithm


def test_policy_example_shows_every_section_and_key() -> None:
    data = yaml.safe_load(EXAMPLE.read_text("utf-8"))
    assert set(data) == set(Policy.model_fields), "every top-level key, no other"
    sections = _sections()
    assert {"quotas", "approvals", "reports", "defaults"} <= set(sections)
    for name, model in sections.items():
        assert set(data[name]) == set(model.model_fields), f"every key of `{name}`"
    entry_keys = set().union(*(set(entry) for entry in data["distributions"].values()))
    # distributions: dict[str, DistributionOverride]
    value_model = get_args(Policy.model_fields["distributions"].annotation)[1]
    assert entry_keys == set(value_model.model_fields), "every distribution key"


def test_policy_example_is_commented() -> None:
    lines = EXAMPLE.read_text("utf-8").splitlines()
    comments = [line for line in lines if line.lstrip().startswith("#") or " # " in line]
    assert len(comments) >= len(Policy.model_fields) + len(_sections())


def _copy_instructions() -> dict[str, str]:
    """{made file: example it is copied from} from compose.yaml's `cp A B` comment lines."""
    return {
        made: source
        for source, made in re.findall(
            r"^#\s+cp (\S+) (\S+)", COMPOSE.read_text("utf-8"), re.MULTILINE
        )
    }


def test_compose_mounts_the_files_its_instructions_make() -> None:
    compose = yaml.safe_load(COMPOSE.read_text("utf-8"))
    bot = compose["services"]["bot"]
    made = _copy_instructions()
    for made_file, source in made.items():
        assert (ROOT / source).is_file(), f"compose.yaml says `cp {source} {made_file}`"
    bind_mounts = [mount.split(":")[0] for mount in bot["volumes"] if mount.startswith("./")]
    assert bind_mounts, "the policy file is mounted"
    for mount in bind_mounts:
        assert mount.removeprefix("./") in made, f"nothing says how to make {mount}"
    assert bot["env_file"] in made
    policy_mount = next(m for m in bot["volumes"] if m.startswith("./"))
    assert policy_mount.split(":")[1] == bot["environment"]["SOLTI_CONFIG"]
    assert made[policy_mount.split(":")[0].removeprefix("./")] == EXAMPLE.name


def test_made_files_are_ignored_by_git() -> None:
    ignored = (ROOT / ".gitignore").read_text("utf-8").splitlines()
    for made in _copy_instructions():
        assert made in ignored, f"{made} holds local secrets or policy; .gitignore it"
