"""Limits, flavors, quotas and long lists through Slack (issue 13): signed HTTP in, replies out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from solti.provisioning.config import Policy
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn
from tests.bot.conftest import (
    ALICE,
    BOB,
    INFRA,
    KEY,
    Harness,
    assert_blocks_accepted,
    running_bot,
)

FLEET = {
    "limits": {"per_vm": {"cores": 8, "memory": 16384, "disk": "500G"}},
    "flavors": {"small": {"cores": 1, "memory": 2048, "disk": "20G"}},
    "quotas": {"max_vms_per_user": 2},
}


@pytest.fixture
def fleet_bot(
    sim: SimEnvironment, standin: SlackStandIn, tmp_path: Path, template_built: int
) -> Iterator[Harness]:
    standin.reset()
    base = yaml.safe_load(sim.config_path.read_text("utf-8"))
    policy = Policy.model_validate({**base, **FLEET})
    with running_bot(sim, standin, tmp_path, policy=policy) as harness:
        yield harness
    assert_blocks_accepted(standin)


def test_numbers_are_bounded_in_the_parser(fleet_bot: Harness) -> None:
    huge = "9" * 5000
    cores = fleet_bot.user.slash(f"vm create rocky9 --cores {huge}").json()
    assert cores["text"].startswith("--cores must be a whole number from 1 to 512")
    assert len(cores["text"]) < 300
    disk = fleet_bot.user.slash(f"vm create rocky9 --disk {huge}G").json()
    assert "is too large; sizes go up to 1024P" in disk["text"] and len(disk["text"]) < 300
    memory = fleet_bot.user.slash(f"vm create rocky9 --memory {huge}").json()
    assert "a whole number from 16 to 4194304" in memory["text"]
    page = fleet_bot.user.slash(f"vm list --page {huge}").json()
    assert "--page must be a whole number from 1 to 100000" in page["text"]


def test_a_dry_run_over_a_limit_is_refused_naming_the_key(fleet_bot: Harness) -> None:
    fleet_bot.runtime.keys.set(ALICE, KEY)
    fleet_bot.user.slash("vm create rocky9 --disk 5000000G --dry-run")
    text = fleet_bot.wait_ephemeral("limits.per_vm.disk")
    assert "limits.per_vm.disk is 500G; you asked for 5000000G" in text
    fleet_bot.user.slash("vm create rocky9 --size nope --dry-run")
    assert "small (1 core, 2048 MiB, 20G)" in fleet_bot.wait_ephemeral("no flavor named 'nope'")
    fleet_bot.user.slash("vm create rocky9 --size small --cores 2 --dry-run")
    fleet_bot.wait_ephemeral("Dry run: would create")
    shown = str(fleet_bot.standin.ephemerals(ALICE)[-1]["blocks"])
    assert "2048" in shown and "20G" in shown, shown
    assert not fleet_bot.standin.messages(INFRA)


def test_concurrent_creates_through_slack_stop_at_the_quota_and_quota_says_so(
    fleet_bot: Harness,
) -> None:
    fleet_bot.runtime.keys.set(ALICE, KEY)
    threads = [
        threading.Thread(target=fleet_bot.user.slash, args=(f"vm create rocky9 --name q-{i}",))
        for i in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    def texts() -> list[str]:
        every = fleet_bot.ephemeral_texts()  # refused by the plan
        every += [str(m.get("text")) for m in fleet_bot.standin.messages(INFRA)]  # by the build
        return every

    def settled() -> bool:
        ready = sum(" is ready on " in t for t in texts())
        return ready == 2 and sum("quotas.max_vms_per_user" in t for t in texts()) == 4

    fleet_bot.standin.wait_for(settled, timeout=60)
    owners = fleet_bot.provisioner.audit.owners()
    assert sum(1 for owner in owners.values() if owner == ALICE) == 2
    fleet_bot.user.slash("quota")
    fleet_bot.wait_ephemeral("Quota of")
    text = str(fleet_bot.standin.ephemerals(ALICE)[-1]["blocks"])
    assert "VMs: 2 of 2" in text and "cores: 4 of no limit" in text, text


def test_a_long_list_is_paged_never_cut(fleet_bot: Harness) -> None:
    state = fleet_bot.env.pve.state
    for vmid in range(2000, 2250):
        state.add_vm(vmid, f"bulk-{vmid}")
    try:
        fleet_bot.user.slash("vm list")
        fleet_bot.wait_ephemeral("VMs: 1-100 of", timeout=20)
        first = str(fleet_bot.standin.ephemerals(ALICE)[-1]["blocks"])
        assert "; `/solti vm list --page 2`" in first and "bulk-2000" in first
        fleet_bot.user.slash("vm list --page 3")
        fleet_bot.wait_ephemeral("VMs: 201-", timeout=20)
        last = str(fleet_bot.standin.ephemerals(ALICE)[-1]["blocks"])
        assert "(the last page)" in last and "bulk-2249" in last
    finally:
        for vmid in range(2000, 2250):
            state.guests.drop(vmid)  # the package's tests share this cluster


def test_give_moves_a_vm_and_its_quota_to_the_new_owner(fleet_bot: Harness) -> None:
    fleet_bot.runtime.keys.set(ALICE, KEY)
    made = fleet_bot.provisioner.create_vm(
        {"template": "rocky9", "ssh_keys": [KEY], "name": "gift"}, actor=ALICE, via="slack"
    )
    vmid = made.vm.vmid
    fleet_bot.user.slash(f"vm give {vmid} <@{BOB}|bob>", user=BOB)  # not the owner
    assert "only its owner or an admin" in fleet_bot.wait_ephemeral("belongs to", user=BOB)
    fleet_bot.user.slash(f"vm give {vmid} <@{BOB}|bob>")
    fleet_bot.wait_ephemeral(f"VM {vmid} now belongs to")
    assert fleet_bot.provisioner.audit.owners()[vmid] == BOB
    assert fleet_bot.provisioner.quota(BOB)["used"]["vms"] == 1
    assert all(v["vmid"] != vmid for v in fleet_bot.provisioner.quota(ALICE)["vms"])
    listed = {v.vmid: v.owner for v in fleet_bot.provisioner.list_vms()}
    assert listed[vmid] == BOB
    given = fleet_bot.provisioner.audit.query(vmid=vmid, action="vm give", limit=None)
    denied = [r for r in given if r.result == "denied"]
    assert [r.params for r in given if r.result == "ok"] == [{"from": ALICE, "to": BOB}]
    assert denied and denied[0].actor == BOB


def test_the_form_takes_a_size_and_bounds_its_numbers(fleet_bot: Harness) -> None:
    fleet_bot.runtime.keys.set(ALICE, KEY)
    fleet_bot.user.slash("vm create")
    view = fleet_bot.standin.wait_for(
        lambda: [
            v for v in fleet_bot.standin.open_views(ALICE) if v.get("callback_id") == "vm_create"
        ],
        20,
    )[0]
    assert any(b.get("block_id") == "size" for b in view["blocks"])
    select = next(b for b in view["blocks"] if b.get("block_id") == "template")
    template = select["element"]["options"][0]["value"]
    huge = fleet_bot.user.submit_view(view, {"template": template, "cores": "9" * 5000})
    assert huge.json()["errors"] == {"cores": "Must be a whole number from 1 to 512."}
    unknown = fleet_bot.user.submit_view(view, {"template": template, "size": "nope"})
    shown = unknown.json()["errors"]["size"]
    assert "no flavor named 'nope'" in shown and "small (1 core" in shown, shown
    over = fleet_bot.user.submit_view(view, {"template": template, "disk": "5000000G"})
    assert "limits.per_vm.disk is 500G" in over.json()["errors"]["disk"]
