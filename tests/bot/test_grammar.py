"""The slash grammar, pure: parsed commands and the wording of usage errors."""

from __future__ import annotations

import pytest

from solti.bot import grammar as g


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", g.Help()),
        ("help vm", g.Help(topic="vm")),
        ("vm create", g.VmCreate()),
        ("vm create rocky9", g.VmCreate(template="rocky9")),
        (
            "vm create 9001 --vmid 123 --name web-1 --disk 50g --cores 4 --memory 8192 --full "
            "--node pve1 --ip 10.0.0.5/24 --gw 10.0.0.1 --dry-run",
            g.VmCreate(
                template="9001",
                vmid=123,
                name="web-1",
                disk="50G",
                cores=4,
                memory=8192,
                full=True,
                node="pve1",
                ip="10.0.0.5/24",
                gw="10.0.0.1",
                dry_run=True,
            ),
        ),
        ("vm create rocky9 --disk=20G", g.VmCreate(template="rocky9", disk="20G")),
        ("vm create rocky9 \u2014dry-run", g.VmCreate(template="rocky9", dry_run=True)),
        ("vm list --mine", g.VmList(mine=True)),
        ("vm list --page 3 --mine", g.VmList(mine=True, page=3)),
        ("vm create rocky9 --size small", g.VmCreate(template="rocky9", size="small")),
        ("vm give 512 <@U0BOB|bob>", g.VmGive(512, "U0BOB")),
        ("quota", g.Quota()),
        ("quota <@U0BOB|bob>", g.Quota("U0BOB")),
        ("vm stop 512", g.VmAction("stop", 512)),
        ("template list", g.TemplateList()),
        ("template build Rocky9", g.TemplateBuild("rocky9")),
        ("template destroy 9001", g.TemplateDestroy(9001)),
        ("key show", g.KeyShow()),
        ("key remove", g.KeyRemove()),
        ("audit --user <@U123ABC|alice> --vmid 512", g.Audit(user="U123ABC", vmid=512)),
        ("report", g.Report()),
    ],
)
def test_parses(text: str, expected: g.Command) -> None:
    assert g.parse(text) == expected


def test_key_set_keeps_the_key_verbatim() -> None:
    key = 'ssh-ed25519 AAAAC3Nz "my laptop" it\'s mine'
    assert g.parse(f"key set {key}") == g.KeySet(key)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("dance", "Unknown command `dance`; allowed: vm, template"),
        ("vm", "`vm` needs a verb"),
        ("vm reboot 5", "Unknown vm verb `reboot`; allowed: create, list"),
        ("vm create rocky9 --disk", "--disk needs a value, e.g. --disk 50G"),
        ("vm create rocky9 --disk --full", "--disk needs a value"),
        ("vm create rocky9 --disk big", "`big` is not a size"),
        ("vm create rocky9 --vmid 12", "out of range"),
        ("vm create rocky9 --vmid abc", "--vmid must be a whole number (100 or more), not `abc`"),
        ("vm create rocky9 --cores 0", "from 1 to 512"),
        ("vm create rocky9 --memory 8", "memory in MB"),
        ("vm create rocky9 --gw 10.0.0.1", "--gw needs a static address"),
        ("vm create rocky9 debian12", "takes one template"),
        ("vm create rocky9 --full=yes", "is a flag"),
        ("vm create rocky9 --bogus 1", "Unknown option `--bogus`; allowed: --vmid"),
        ("vm stop", "needs one VMID"),
        ("vm stop abc", "VMID must be a whole number (100 or more), not `abc`."),
        ("template build", "needs one distribution"),
        ("template destroy x", "VMID must be a whole number (100 or more), not `x`"),
        ("key set", "needs your public key"),
        ("key rotate", "Unknown key verb"),
        ("audit --user alice", "needs a Slack mention"),
        ('vm create "rocky9', "quote is not closed"),
        ("vm create rocky9 --cores " + "9" * 5000, "from 1 to 512, not `99999"),
        ("vm create rocky9 --memory " + "9" * 5000, "from 16 to 4194304"),
        ("vm create rocky9 --disk " + "9" * 5000 + "G", "is too large; sizes go up to 1024P"),
        ("vm create rocky9 --vmid " + "9" * 5000, "out of range; VMIDs run from 100"),
        ("vm stop " + "9" * 5000, "(5000 characters)"),
        ("vm list --page 0", "--page must be a whole number from 1 to 100000"),
        ("vm give 512", "needs a VMID and a person"),
        ("vm give 512 bob", "needs a Slack mention"),
        ("quota bob", "needs a Slack mention"),
    ],
)
def test_usage_errors_name_the_problem(text: str, needle: str) -> None:
    with pytest.raises(g.UsageError) as caught:
        g.parse(text)
    assert needle in caught.value.message
    assert len(caught.value.message) < 400  # a 5,000-digit value is never repeated whole


def test_modal_is_opened_only_without_template() -> None:
    assert g.VmCreate().opens_modal
    assert not g.VmCreate(template="rocky9").opens_modal
