"""`solti` as an ordinary user: every CLI verb × (operator, owner, other user), for real.

On a shared jump host several people run `solti` under their own login. Before, whoever ran it
acted as an operator: `solti vm remove` removed anyone's VM. Now every verb asks the one
authorization function the bot asks (``provisioning.authorization_rules.authorize``) with the
CLI's judge (policy ``cli.operators``). Each case below runs the verb against the simulator
with ``USER`` set and checks the outcome: refused (one sentence naming ``cli.operators``,
exit 1, a ``denied`` audit record, Proxmox untouched) or carried out.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from solti.bot.authorization import VERBS as SLACK_VERBS
from solti.provisioning.audit_log import AuditLog
from solti.provisioning.authorization_rules import (
    CLI,
    VERBS,
    Actor,
    CliJudge,
    authorize,
)
from solti.provisioning.notes import render_notes
from solti.sandbox.environment import SimEnvironment, merge_policy
from tests.cli.clihelpers import solti
from tests.helpers.keys import new_ssh_key

OPERATOR, OWNER, OTHER = "ops", "alice", "bob"
PEOPLE = {"operator": OPERATOR, "owner": OWNER, "other user": OTHER}
VMID, TEMPLATE, SPARE = 500, 9000, 9001  # SPARE: an older build no VM uses
KEY = new_ssh_key("alice@example")

# Every CLI verb: its verb in the table, and a command line that succeeds when allowed.
CLI_VERBS: dict[str, tuple[str, ...]] = {
    "vm create": ("vm", "create", "rocky9", "--ssh-key", KEY, "--dry-run"),
    "vm list": ("vm", "list"),
    "vm verify": ("vm", "verify", str(VMID)),
    "vm start": ("vm", "start", str(VMID)),
    "vm stop": ("vm", "stop", str(VMID), "--yes"),
    "vm shutdown": ("vm", "shutdown", str(VMID), "--timeout", "5", "--force"),
    "vm remove": ("vm", "remove", str(VMID), "--yes"),
    "vm give": ("vm", "give", str(VMID), "carol"),
    "vm extend": ("vm", "extend", str(VMID), "1d"),
    "vm rebuild": ("vm", "rebuild", str(VMID), "--dry-run"),
    "snapshot create": ("snapshot", "create", str(VMID), "later"),
    "snapshot list": ("snapshot", "list", str(VMID)),
    "snapshot rollback": ("snapshot", "rollback", str(VMID), "base", "--yes"),
    "snapshot delete": ("snapshot", "delete", str(VMID), "base", "--yes"),
    "template list": ("template", "list"),
    "template verify": ("template", "verify", str(TEMPLATE)),
    "template build": ("template", "build", "rocky9"),
    "template destroy": ("template", "destroy", str(SPARE), "--yes"),
    "reconcile": ("reconcile", "--dry-run"),
    "lease sweep": ("lease", "sweep", "--dry-run"),
    "quota": ("quota",),
    "audit": ("audit",),
}


def expected(verb: str, who: str) -> bool:
    """The policy as docs/operations.md states it, written out apart from the code."""
    if who == "operator":
        return True
    if verb in ("template build", "template destroy", "reconcile", "lease sweep"):
        return False
    if verb.startswith("snapshot ") or verb in (
        "vm start", "vm stop", "vm shutdown", "vm remove", "vm give", "vm extend", "vm rebuild",
    ):  # fmt: skip
        return who == "owner"
    return True


def _policy(world: SimEnvironment, tmp_path: Path, cli: dict[str, Any] | None) -> str:
    path = tmp_path / "policy.yaml"
    extra = {"cli": cli} if cli is not None else {}
    path.write_text(yaml.safe_dump(merge_policy(world.policy(), extra)), encoding="utf-8")
    return str(path)


def _as(env: dict[str, str], user: str) -> dict[str, str]:
    return {**env, "USER": user, "LOGNAME": user}


def _template(world: SimEnvironment, vmid: int, month: int, distro: str = "rocky9") -> None:
    notes = render_notes(
        {
            "distribution": distro,
            "version": f"9.6-2026{month:02}01",
            "build_date": datetime(2026, month, 1, tzinfo=UTC).isoformat(),
        }
    )
    world.pve.state.add_template(
        vmid, f"{distro}-template", disk_size="10G", tags=["solti", "template", distro],
        description=notes,
    )  # fmt: skip


def _fresh(world: SimEnvironment, tmp_path: Path, cli: dict[str, Any] | None) -> dict[str, str]:
    """Alice's VM 500 (created with the CLI, so she owns it) with snapshot `base`."""
    world.reset()
    world.pve.state.rrd_lag = 0
    _template(world, TEMPLATE, 11)
    _template(world, SPARE, 10, "debian12")
    env = {
        **world.env,
        "SOLTI_DB": str(tmp_path / "solti.db"),
        "SOLTI_CONFIG": _policy(world, tmp_path, cli),
    }
    made = solti(_as(env, OWNER), "vm", "create", "rocky9", "--ssh-key", KEY, "--name", "alices")
    assert made.exit_code == 0, made.output
    assert world.pve.state.guests[VMID].conf["name"] == "alices"
    snap = solti(_as(env, OWNER), "snapshot", "create", str(VMID), "base")
    assert snap.exit_code == 0, snap.output
    return env


@pytest.fixture
def env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    return _fresh(world, tmp_path, {"operators": [OPERATOR]})


def _denied(env: dict[str, str], user: str) -> list[Any]:
    records = AuditLog(env["SOLTI_DB"]).query(user=user, limit=None)
    return [r for r in records if r.result == "denied"]


def _guests(world: SimEnvironment) -> dict[int, Any]:
    state = world.pve.state
    return {
        vmid: (g.running, sorted(g.snapshots), g.parent, json.dumps(g.conf, default=str))
        for vmid, g in state.guests.items()
    }


@pytest.mark.parametrize("who", list(PEOPLE))
@pytest.mark.parametrize("verb", list(CLI_VERBS))
def test_every_cli_verb_for_every_kind_of_user(
    verb: str, who: str, env: dict[str, str], world: SimEnvironment
) -> None:
    user = PEOPLE[who]
    before = _guests(world)
    result = solti(_as(env, user), *CLI_VERBS[verb])
    if expected(verb, who):
        assert result.exit_code == 0, result.output
        assert not _denied(env, user)
        return
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"Error: solti {verb}"), lines[0]
    assert "policy `cli.operators`" in lines[0] and f"does not list {user}" in lines[0]
    assert _guests(world) == before  # nothing changed in Proxmox
    [record] = _denied(env, user)
    assert (record.action, record.via, record.actor) == (verb, "cli", user)
    assert record.error and "cli.operators" in record.error
    if "vm" in CLI_VERBS[verb][0] or CLI_VERBS[verb][0] == "snapshot":
        assert record.vmid == VMID and record.params == {"owner": OWNER}


def test_every_cli_verb_is_in_the_table() -> None:
    assert set(CLI_VERBS) <= set(VERBS)
    assert all(CLI in VERBS[verb].entries for verb in CLI_VERBS)


def test_without_cli_operators_every_user_is_an_operator(
    world: SimEnvironment, tmp_path: Path
) -> None:
    """Today's behaviour on an admin's own machine: the key absent, nobody is refused."""
    env = _fresh(world, tmp_path, None)
    result = solti(_as(env, OTHER), "vm", "remove", str(VMID), "--yes")
    assert result.exit_code == 0, result.output
    assert VMID not in world.pve.state.guests


def test_an_empty_operator_list_makes_everybody_an_ordinary_user(
    world: SimEnvironment, tmp_path: Path
) -> None:
    env = _fresh(world, tmp_path, {"operators": []})
    refused = solti(_as(env, OWNER), "reconcile", "--dry-run")
    assert refused.exit_code == 1 and "does not list alice" in refused.stderr
    own = solti(_as(env, OWNER), "vm", "stop", str(VMID), "--yes")
    assert own.exit_code == 0, own.output


def test_a_login_name_with_spaces_is_refused_at_start(
    world: SimEnvironment, tmp_path: Path
) -> None:
    env = {**world.env, "SOLTI_DB": str(tmp_path / "solti.db")}
    env["SOLTI_CONFIG"] = _policy(world, tmp_path, {"operators": ["al ice"]})
    result = solti(_as(env, OWNER), "reconcile", "--dry-run")
    assert result.exit_code == 1 and "cli.operators" in result.stderr, result.output


# The pure decision, for every verb the CLI can name: the same table the bot uses.
@pytest.mark.parametrize("who", list(PEOPLE))
@pytest.mark.parametrize("verb", sorted(v for v, n in VERBS.items() if CLI in n.entries))
def test_the_cli_judge_over_the_shared_table(verb: str, who: str) -> None:
    judge = CliJudge(frozenset({OPERATOR}))
    decision = authorize(verb, Actor(PEOPLE[who]), None, judge, owner=OWNER)
    need = VERBS[verb]
    if need.approver:  # approvals are decided in Slack only
        assert not decision
        return
    want = who == "operator" or not (need.operator or (need.owner and who != "owner"))
    assert bool(decision) is want, decision.reason
    if not decision:
        assert decision.reason.endswith("."), decision.reason


def test_the_cli_only_verbs_are_not_slack_verbs() -> None:
    assert {"reconcile", "lease sweep"} <= set(VERBS) - set(SLACK_VERBS)
    assert set(SLACK_VERBS) <= set(VERBS)
