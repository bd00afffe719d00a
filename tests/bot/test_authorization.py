"""One authorization function for every entry point: the table, then the side doors it closed.

Before ``bot.authorization``, the channel was checked on the slash command alone: a form
submitted, or a button clicked, in a channel outside ``allowed_channels`` went through, and
a person could ``vm start`` someone else's VM.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest

from solti.bot.authorization import CHANNEL, DM, HOME, VERBS, Actor, authorize, surface_of
from solti.bot.flows.leases import run_sweep
from solti.bot.policy import Rules
from solti.provisioning import load_policy
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn
from tests.bot.conftest import ADMIN, ALICE, APPROVALS, APPROVER, BOB, INFRA, KEY, running_bot

OUTSIDE = "C0OUTSIDE"
RULES = Rules(
    approvers=frozenset({APPROVER, ADMIN}),
    admins=frozenset({ADMIN}),
    creators=frozenset({ALICE, APPROVER}),
    allowed_channels=frozenset({INFRA}),
    approvals_channel=APPROVALS,
)
# Who is who for a target owned (or an approval requested) by Alice.
PEOPLE = {"owner": ALICE, "other user": BOB, "admin": ADMIN}


def _expected(verb: str, who: str, channel: str) -> bool:
    """The rules as the policy documents them, written out independently of the code."""
    if channel == OUTSIDE:
        return False
    need = VERBS[verb]
    if need.owner:
        return who in ("owner", "admin")
    if need.approver:
        return who == "admin"  # Alice cannot approve her own request; Bob is no approver
    if need.creator:
        return who in ("owner", "admin")  # Alice is a creator, admins may always create
    return True


@pytest.mark.parametrize("channel", [INFRA, OUTSIDE])
@pytest.mark.parametrize("who", list(PEOPLE))
@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_verb_for_every_kind_of_person_and_channel(verb: str, who: str, channel: str) -> None:
    decision = authorize(verb, Actor(PEOPLE[who]), channel, RULES, owner=ALICE, requester=ALICE)
    assert bool(decision) is _expected(verb, who, channel), decision.reason
    if not decision:
        assert decision.reason.endswith("."), decision.reason  # a sentence for the person


def test_an_unknown_verb_is_refused() -> None:
    assert not authorize("vm teleport", Actor(ADMIN), INFRA, RULES)


@pytest.fixture
def fenced(sim: SimEnvironment, standin: SlackStandIn, tmp_path: Path, template_built: int):  # type: ignore[no-untyped-def]
    """A bot whose policy allows Solti in #infra (and the approvals channel) only."""
    standin.reset()
    standin.add_channel(OUTSIDE, "outside")
    policy = load_policy(sim.config_path)
    with running_bot(
        sim, standin, tmp_path, policy=policy.model_copy(update={"allowed_channels": [INFRA]})
    ) as harness:
        harness.extras["template_vmid"] = template_built
        yield harness


def _views(bot, user: str = ALICE) -> list[dict]:  # type: ignore[no-untyped-def]
    return [v for v in bot.standin.open_views(user) if v.get("callback_id") == "vm_create"]


def test_a_form_for_an_outside_channel_makes_no_vm(fenced) -> None:  # type: ignore[no-untyped-def]
    bot = fenced
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create")
    view = bot.standin.wait_for(lambda: _views(bot), 20)[0]
    # The same form, as opened from a channel Solti is not enabled in (a button there, or
    # a form opened before the policy changed): its metadata names that channel.
    metadata = json.loads(view["private_metadata"])
    metadata["channel"] = OUTSIDE
    copy = {k: v for k, v in view.items() if k not in ("id", "root_view_id", "state")}
    copy["private_metadata"] = json.dumps(metadata)
    outside_view = bot.standin.state.open_view(copy, ALICE)
    before = {v.vmid for v in bot.provisioner.list_vms()}
    template = str(bot.extras["template_vmid"])
    reply = bot.user.submit_view(outside_view, {"template": template, "name": "side-door"})
    assert reply.json()["response_action"] == "errors"
    assert "not enabled in this channel" in str(reply.json()["errors"])
    assert {v.vmid for v in bot.provisioner.list_vms()} == before


def test_buttons_in_an_outside_channel_are_refused(fenced) -> None:  # type: ignore[no-untyped-def]
    bot = fenced
    reply = bot.user.slash("help").json()
    bot.standin.state.post_ephemeral(
        OUTSIDE, ALICE, {"text": reply["text"], "blocks": reply["blocks"]}
    )
    bot.user.click(bot.standin.ephemerals(ALICE)[-1], "open_create_modal")
    bot.wait_ephemeral("not enabled in this channel")
    assert not _views(bot)


def test_a_remove_button_in_an_outside_channel_removes_nothing(fenced) -> None:  # type: ignore[no-untyped-def]
    bot = fenced
    vmid = 4100
    bot.env.pve.state.add_vm(vmid, "fenced-vm", tags=["solti"])
    bot.provisioner.audit.record(
        "vm create", ALICE, "slack", "ok", vmid=vmid, name="fenced-vm", request_id="fenced"
    )
    prompt = {
        "text": "Remove VM 4100?",
        "blocks": [
            {
                "type": "actions",
                "block_id": "remove",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "vm_remove",
                        "text": {"type": "plain_text", "text": "Remove"},
                        "value": str(vmid),
                    }
                ],
            }
        ],
    }
    bot.standin.state.post_ephemeral(OUTSIDE, ALICE, prompt)
    bot.user.click(bot.standin.ephemerals(ALICE)[-1], "vm_remove")
    bot.wait_ephemeral("not enabled in this channel")
    assert vmid in bot.env.pve.state.guests
    bot.provisioner.remove_vm(vmid, actor=ADMIN, via="cli")  # the package shares one cluster


def test_another_persons_vm_cannot_be_started(bot) -> None:  # type: ignore[no-untyped-def]
    vmid = 4101
    bot.env.pve.state.add_vm(vmid, "alices-vm", tags=["solti"])
    bot.provisioner.audit.record(
        "vm create", ALICE, "slack", "ok", vmid=vmid, name="alices-vm", request_id="alices"
    )
    assert next(v for v in bot.provisioner.list_vms() if v.vmid == vmid).owner == ALICE
    bot.user.slash(f"vm start {vmid}", user=BOB)
    bot.wait_ephemeral("only its owner or an admin", user=BOB)
    assert not bot.env.pve.state.guests[vmid].running
    refused = [r for r in bot.audit.query(vmid=vmid) if r.action == "vm start"]
    assert [r.result for r in refused] == ["denied"]
    bot.user.slash(f"vm start {vmid}", user=ADMIN)
    bot.wait_ephemeral("is started", user=ADMIN)
    bot.provisioner.remove_vm(vmid, actor=ADMIN, via="cli")  # the package shares one cluster


# --- personal surfaces: the DM with the app and App Home ----------------------------------------

# Where a request can come from; `allowed_channels` lists neither a DM nor App Home.
SURFACES = {"channel": INFRA, "outside channel": OUTSIDE, "dm": "D0ALICEAPP", "home": None}


def _expected_on(verb: str, who: str, surface: str) -> bool:
    """On a personal surface only `personal` verbs skip the channel rule; the rest as above."""
    personal = surface in ("dm", "home")
    if surface == "outside channel" or (personal and not VERBS[verb].personal):
        return False
    return _expected(verb, who, INFRA)


@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize("who", list(PEOPLE))
@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_verb_for_every_person_on_every_surface(verb: str, who: str, surface: str) -> None:
    channel = SURFACES[surface]
    decision = authorize(verb, Actor(PEOPLE[who]), channel, RULES, owner=ALICE, requester=ALICE)
    assert bool(decision) is _expected_on(verb, who, surface), decision.reason
    if not decision:
        assert decision.reason.endswith("."), decision.reason


def test_the_personal_verbs_are_the_buttons_of_the_personal_surfaces() -> None:
    """[Extend] in a reminder DM and on App Home, [Start]/[Stop] on App Home; every one of
    them still needs the owner or an admin."""
    personal = {verb for verb, need in VERBS.items() if need.personal}
    assert personal == {"vm extend", "vm start", "vm stop"}
    assert all(VERBS[verb].owner for verb in personal)
    assert [surface_of(c) for c in SURFACES.values()] == [CHANNEL, CHANNEL, DM, HOME]


def test_extend_from_the_reminder_dm_and_app_home_under_allowed_channels(fenced) -> None:  # type: ignore[no-untyped-def]
    """`allowed_channels` is #infra only: the owner's [Extend] in her DM and on her Home tab
    still work; another person's click on the same button is refused and recorded."""
    bot = fenced
    vmid = 4102
    bot.env.pve.state.add_vm(vmid, "leased-fenced", running=True)
    bot.provisioner.audit.record("vm create", ALICE, "slack", "ok", vmid=vmid,
                                 name="leased-fenced", request_id="leased-fenced")  # fmt: skip
    bot.provisioner.leases.begin(vmid, ALICE, timedelta(hours=20))
    try:
        assert run_sweep(bot.runtime) == 1
        dm = bot.standin.state.resolve_channel(ALICE)
        reminder = bot.standin.wait_for(lambda: bot.standin.messages(dm), 10)[-1]
        first_end = bot.provisioner.leases.get(vmid).expires_at

        bot.user.click(reminder, "vm_extend", user=BOB)
        bot.standin.wait_for(
            lambda: bot.audit.query(vmid=vmid, action="vm lease extend", result="denied"), 20
        )
        assert bot.provisioner.leases.get(vmid).expires_at == first_end

        bot.user.click(reminder, "vm_extend")
        bot.standin.wait_for(lambda: bot.provisioner.leases.get(vmid).expires_at > first_end, 20)
        second_end = bot.provisioner.leases.get(vmid).expires_at

        assert bot.user.open_home().status_code == 200
        home = bot.standin.wait_for(lambda: bot.standin.home(ALICE), 10)
        bot.user.click(home, "vm_extend")
        bot.standin.wait_for(lambda: bot.provisioner.leases.get(vmid).expires_at > second_end, 20)
        assert not [t for t in bot.ephemeral_texts() if "not enabled in this channel" in t]
    finally:
        bot.provisioner.remove_vm(vmid, actor=ADMIN, via="cli")  # the package shares one cluster


def test_a_count_create_refused_here_is_audited_as_denied(fenced) -> None:  # type: ignore[no-untyped-def]
    """`vm create --count` by someone the policy's `creators` leaves out is audited `denied`,
    as a single create's refusal is (not `failed`: nothing was attempted)."""
    bot = fenced
    bot.runtime.rules = dataclasses.replace(bot.runtime.rules, creators=frozenset({"U0ELSE"}))
    bot.runtime.keys.set(ALICE, KEY)
    before = {v.vmid for v in bot.provisioner.list_vms()}
    for command in ("vm create rocky9 --count 2", "vm create rocky9"):
        bot.user.slash(command, channel=INFRA)
    rows = bot.standin.wait_for(
        lambda: (r := bot.audit.query(action="vm create")) and len(r) >= 2 and r, 20
    )
    assert [(r.result, r.actor) for r in rows] == [("denied", ALICE), ("denied", ALICE)]
    assert {v.vmid for v in bot.provisioner.list_vms()} == before
