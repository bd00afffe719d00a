"""Pure parts: template notes round-trip, PVE error classification, boolean wire values."""

from __future__ import annotations

from datetime import UTC, datetime

from solti.provisioning.errors import Conflict, NotFound
from solti.provisioning.inventory import boot_disk, disk_size, split_tags
from solti.provisioning.notes import parse_notes, render_notes
from solti.provisioning.pve import VmidTaken, VmLocked, VmMissing, _wire, classify


def test_notes_round_trip_and_tolerate_edits() -> None:
    meta = {
        "distribution": "rocky9",
        "version": "9.7-20251123.2",
        "checksum": "0" * 64,
        "build_date": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "hardware": {"cores": 2},
    }
    text = render_notes(meta)
    assert all(line == line.rstrip() for line in text.splitlines())
    parsed = parse_notes("a person's note\n\n" + text)
    assert parsed["checksum"] == "0" * 64 and parsed["version"] == "9.7-20251123.2"
    assert parsed["build_date"].startswith("2026-01-02T03:04:05")
    assert parsed["hardware"] == {"cores": 2}
    assert parse_notes("no metadata here") == {} and parse_notes(None) == {}
    assert parse_notes("solti:\n  : [broken") == {}


def test_an_alias_bomb_in_the_notes_reads_as_no_metadata() -> None:
    """Notes are editable by any PVE user with VM.Config.Options; nine levels of ten aliases
    (10^9 strings once expanded) must be refused by the node count, not expanded."""
    lines = ["solti:", '  a0: &a0 ["x"]']
    for level in range(1, 10):
        lines.append(f"  a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    lines.append("  distribution: rocky9")
    assert parse_notes("\n".join(lines)) == {}
    assert parse_notes("solti:\n  distribution: rocky9\n  a: &x [1]\n  b: *x")["b"] == [1]


def test_classify_keeps_wire_facts() -> None:
    taken = classify("unable to create VM 501: config file already exists", 500, None)
    assert isinstance(taken, VmidTaken) and isinstance(taken, Conflict) and taken.status == 500
    assert isinstance(classify("", 400, {"vmid": "VM 501 already exists"}), VmidTaken)
    missing = classify("Configuration file 'nodes/pve/qemu-server/5.conf' does not exist", 500, {})
    assert isinstance(missing, VmMissing) and isinstance(missing, NotFound)
    assert isinstance(classify("VM is locked (clone)", 500, None), VmLocked)
    bad = classify("Parameter verification failed.", 400, {"sshkeys": "invalid format"})
    assert bad.errors == {"sshkeys": "invalid format"} and "sshkeys: invalid format" in str(bad)


def test_booleans_travel_as_0_or_1() -> None:
    assert _wire({"full": True, "purge": False, "skip": None, "name": "x"}) == {
        "full": 1, "purge": 0, "name": "x"}  # fmt: skip


def test_drive_helpers() -> None:
    config = {"boot": "order=scsi0;net0", "scsi0": "local-lvm:vm-5-disk-0,size=3584M",
              "ide2": "local-lvm:vm-5-cloudinit,media=cdrom"}  # fmt: skip
    assert boot_disk(config) == "scsi0"
    assert str(disk_size(config["scsi0"])) == "3584M"
    assert split_tags("a;b,c d") == ["a", "b", "c", "d"]
