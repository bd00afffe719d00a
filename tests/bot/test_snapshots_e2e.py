"""`/solti snapshot …` end to end: owner or admin, confirm dialogs for rollback and delete,
audit records, the policy's refusals, and the report's old snapshots by owner."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from solti.bot.grammar import SnapshotCreate, SnapshotDelete, SnapshotList, UsageError, parse
from tests.bot.conftest import ALICE, BOB, REPORTS, Harness

VMID = 7730


@pytest.fixture
def owned(bot: Harness) -> Iterator[int]:
    """A running VM of Alice's (the audit log's create names her)."""
    bot.env.pve.state.add_vm(VMID, "snappy", running=True)
    bot.audit.record("vm create", ALICE, "slack", "ok", vmid=VMID, name="snappy")
    try:
        yield VMID
    finally:
        bot.provisioner.remove_vm(VMID, actor="test-cleanup")


def _snapshots(bot: Harness) -> list[str]:
    return sorted(bot.env.pve.state.guests[VMID].snapshots)


def _prompt(bot: Harness, needle: str) -> dict:
    bot.wait_ephemeral(needle)
    return [m for m in bot.standin.ephemerals(ALICE) if needle in m.get("text", "")][-1]


def _actions(bot: Harness) -> list[tuple[str, str, str]]:
    records = bot.audit.query(vmid=VMID, limit=None)
    return [(r.action, r.result, r.actor) for r in reversed(records) if r.action != "vm create"]


def test_create_list_rollback_delete_with_confirmations(bot: Harness, owned: int) -> None:
    bot.user.slash(f'snapshot create {owned} before --description "pre upgrade"')
    bot.wait_ephemeral("snapshot `before` taken", timeout=20)
    assert _snapshots(bot) == ["before"]

    bot.user.slash(f"snapshot list {owned}")
    listed = bot.wait_ephemeral(f"Snapshots of VM {owned}")
    assert listed.endswith(": 1")
    shown = str(bot.standin.ephemerals(ALICE)[-1]["blocks"])
    assert "`before`" in shown and "pre upgrade" in shown

    bot.user.slash(f"snapshot rollback {owned} before")
    prompt = _prompt(bot, "back to `before`")
    assert "is lost" in prompt["text"] and "then started again" in prompt["text"]
    assert "then started again" in str(prompt["blocks"])  # the confirm dialog says so too
    assert bot.env.pve.state.guests[VMID].running  # nothing happens before the click
    bot.user.click(prompt, "snapshot_rollback")
    done = bot.wait_ephemeral("is back at snapshot `before`", timeout=20)
    assert "it is running again" in done
    assert bot.env.pve.state.guests[VMID].running  # started again: the owner's VM as it was

    bot.user.slash(f"snapshot delete {owned} before")
    prompt = _prompt(bot, "Delete snapshot `before`")
    assert "confirm" in str(prompt["blocks"]) and _snapshots(bot) == ["before"]
    bot.user.click(prompt, "snapshot_delete")
    bot.wait_ephemeral("snapshot `before` deleted", timeout=20)
    assert _snapshots(bot) == []
    assert _actions(bot) == [
        ("snapshot create", "ok", ALICE),
        ("snapshot rollback", "ok", ALICE),
        ("snapshot delete", "ok", ALICE),
    ]


def test_only_the_owner_or_an_admin(bot: Harness, owned: int) -> None:
    bot.user.slash(f"snapshot create {owned} mine", user=BOB)
    bot.wait_ephemeral("only its owner or an admin", user=BOB)
    bot.user.slash(f"snapshot list {owned}", user=BOB)
    bot.standin.wait_for(
        lambda: len([t for t in bot.ephemeral_texts(BOB) if "only its owner" in t]) == 2, 10
    )
    assert _snapshots(bot) == []
    assert _actions(bot) == [("snapshot create", "denied", BOB), ("snapshot list", "denied", BOB)]
    # A rollback prompt shown to Bob (forwarded) is refused on the click too.
    bot.provisioner.create_snapshot(owned, "base", actor=ALICE)
    bot.user.slash(f"snapshot rollback {owned} base")
    prompt = _prompt(bot, "back to `base`")
    bot.standin.state.post_ephemeral(
        "C0INFRA", BOB, {"text": prompt["text"], "blocks": prompt["blocks"]}
    )
    bot.user.click(bot.standin.ephemerals(BOB)[-1], "snapshot_rollback", user=BOB)
    bot.standin.wait_for(
        lambda: len([t for t in bot.ephemeral_texts(BOB) if "only its owner" in t]) == 3, 20
    )
    assert bot.env.pve.state.guests[VMID].running


def test_policy_refusals_are_sentences(bot: Harness, owned: int) -> None:
    bot.user.slash(f"snapshot create {owned} ram --memory")
    bot.wait_ephemeral("snapshots.allow_memory is false")
    for name in ("one", "two", "three"):
        bot.provisioner.create_snapshot(owned, name, actor=ALICE)
    bot.user.slash(f"snapshot create {owned} four")
    refused = bot.wait_ephemeral("snapshots.max_per_vm allows (3)")
    assert f"`snapshot delete {owned} " in refused
    bot.user.slash(f"snapshot rollback {owned} nosuch")
    bot.wait_ephemeral("has no snapshot named `nosuch`")
    assert _snapshots(bot) == ["one", "three", "two"]


def test_report_lists_old_snapshots_by_owner(bot: Harness, owned: int) -> None:
    from solti.bot.reports import post_report

    bot.provisioner.create_snapshot(owned, "ancient", actor=ALICE)
    bot.provisioner.create_snapshot(owned, "fresh", actor=ALICE)
    with bot.env.pve.state.mutex:
        bot.env.pve.state.guests[VMID].snapshots["ancient"].snaptime -= 20 * 86400
    post_report(bot.runtime, REPORTS)
    text = " ".join(str(m["blocks"]) for m in bot.standin.messages(REPORTS))
    assert "Snapshots older than 2w" in text
    assert f"<@{ALICE}>: `{VMID}` snappy: `ancient` (20 days)" in text
    assert "`fresh`" not in text


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("snapshot create 512", SnapshotCreate(512)),
        (
            "snapshot create 512 pre-up --description 'before the upgrade' --memory",
            SnapshotCreate(512, "pre-up", "before the upgrade", True),
        ),
        ("snapshot list 512", SnapshotList(512)),
        ("snapshot delete 512 pre-up", SnapshotDelete(512, "pre-up")),
    ],
)
def test_grammar(text: str, parsed: object) -> None:
    assert parse(text) == parsed


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("snapshot", "`snapshot` needs a verb"),
        ("snapshot take 512", "Unknown snapshot verb `take`"),
        ("snapshot create 512 current", "is reserved by Proxmox"),
        ("snapshot create 512 9lives", "start with a letter"),
        ("snapshot rollback 512", "needs a VMID and a snapshot name"),
        ("snapshot list 12", "VMIDs run from 100"),
        ("snapshot create 512 x --force", "Unknown option `--force`"),
    ],
)
def test_grammar_refusals(text: str, says: str) -> None:
    with pytest.raises(UsageError) as info:
        parse(text)
    assert says in info.value.message and info.value.topic == "snapshot"
