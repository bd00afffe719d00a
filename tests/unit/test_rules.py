"""The original rules: VMID ranges, template priority, naming, disk sizing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solti.provisioning.errors import Conflict, InvalidRequest, NotFound, RangeExhausted
from solti.provisioning.models import TemplateInfo
from solti.provisioning.rules import (
    AUTO_RANGE,
    TEMPLATE_RANGE,
    choose_vmid,
    classify_template_selector,
    default_vm_name,
    disk_resize_needed,
    next_free_after,
    next_template_vmid,
    normalize_tags,
    pick_template,
    template_name,
    unique_name,
    validate_dns_label,
)
from solti.provisioning.sizes import Size

DISTS = ["rocky9", "debian12", "ubuntu2404"]

# --- VMIDs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        ([], 9000),
        ([100, 500, 8999], 9000),
        ([9000], 9001),
        ([9000, 9005], 9006),  # highest + 1, gaps are not reused
        ([9003, 120, 10000], 9004),
        ([9998], 9999),
    ],
)
def test_next_template_vmid(used: list[int], expected: int) -> None:
    assert next_template_vmid(used) == expected


def test_template_range_exhausted() -> None:
    with pytest.raises(RangeExhausted, match="9000-9999"):
        next_template_vmid([9000, 9999])


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        ([], 500),
        ([100, 101, 9000], 500),
        ([500, 501, 503], 502),
        (list(range(500, 700)), 700),
    ],
)
def test_auto_vmid_is_lowest_free(used: list[int], expected: int) -> None:
    assert choose_vmid(used) == expected


def test_auto_range_exhausted() -> None:
    with pytest.raises(RangeExhausted, match="500-8999"):
        choose_vmid(AUTO_RANGE)


@pytest.mark.parametrize("requested", [100, 499, 250, 600, 10000, 123456])
def test_requested_free_id_outside_template_range_is_allowed(requested: int) -> None:
    assert choose_vmid([101, 9000], requested) == requested


@pytest.mark.parametrize("requested", [9000, 9500, 9999])
def test_requested_id_in_template_range_is_refused(requested: int) -> None:
    with pytest.raises(InvalidRequest, match="template range 9000-9999") as info:
        choose_vmid([], requested)
    assert info.value.field == "vmid"


@pytest.mark.parametrize("requested", [0, 99, 1_000_000_000])
def test_requested_id_must_be_a_vmid(requested: int) -> None:
    with pytest.raises(InvalidRequest, match="not a VMID"):
        choose_vmid([], requested)


def test_requested_id_in_use_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="VM 150 already exists"):
        choose_vmid([150], 150)


def test_next_free_after_a_lost_race() -> None:
    assert next_free_after([500], 500) == 501
    assert next_free_after([], 500) == 501  # the snapshot did not show the winner yet
    assert next_free_after([500, 501, 502], 500) == 503
    with pytest.raises(RangeExhausted):
        next_free_after([], 8999)


@given(st.sets(st.integers(min_value=100, max_value=10500), max_size=300))
def test_auto_choice_properties(used: set[int]) -> None:
    vmid = choose_vmid(used)
    assert vmid in AUTO_RANGE
    assert vmid not in used
    assert all(other in used for other in range(AUTO_RANGE.start, vmid))


@given(st.sets(st.integers(min_value=100, max_value=9998), max_size=300))
def test_template_choice_properties(used: set[int]) -> None:
    vmid = next_template_vmid(used)
    assert vmid in TEMPLATE_RANGE
    assert vmid not in used
    assert all(other < vmid for other in used if other in TEMPLATE_RANGE)


# --- template selection -----------------------------------------------------------------------


def _t(vmid: int, dist: str | None, day: int | None, name: str | None = None) -> TemplateInfo:
    built = datetime(2025, 1, day, tzinfo=UTC) if day else None
    name = name or (template_name(dist) if dist else f"t{vmid}")
    return TemplateInfo(vmid=vmid, name=name, node="pve1", distribution=dist, build_date=built)


TEMPLATES = [
    _t(9000, "rocky9", 1),
    _t(9001, "rocky9", 5),
    _t(9002, "debian12", 3),
    _t(9003, "rocky9", 4),
    _t(9004, None, None, name="custom"),
    _t(9005, None, None, name="dup"),
    _t(9006, None, None, name="dup"),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (9001, ("vmid", 9001)),
        ("9001", ("vmid", 9001)),
        ("rocky9", ("distribution", "rocky9")),
        ("custom", ("name", "custom")),
        ("unknown", ("name", "unknown")),
    ],
)
def test_classify(value: int | str, expected: tuple[str, int | str]) -> None:
    assert classify_template_selector(value, DISTS, ["custom"]) == expected


def test_classify_name_beats_distribution() -> None:
    assert classify_template_selector("rocky9", DISTS, ["rocky9"]) == ("name", "rocky9")


def test_pick_by_vmid_name_and_distribution() -> None:
    assert pick_template(TEMPLATES, 9000, distributions=DISTS).vmid == 9000
    assert pick_template(TEMPLATES, "custom", distributions=DISTS).vmid == 9004
    # distribution: latest build date wins, not highest VMID
    assert pick_template(TEMPLATES, "rocky9", distributions=DISTS).vmid == 9001
    assert pick_template(TEMPLATES, "debian12", distributions=DISTS).vmid == 9002


def test_the_shared_build_name_means_the_latest_build() -> None:
    assert pick_template(TEMPLATES, "rocky9-template", distributions=DISTS).vmid == 9001


def test_same_build_date_falls_back_to_vmid() -> None:
    templates = [_t(9010, "rocky9", 2), _t(9011, "rocky9", 2)]
    assert pick_template(templates, "rocky9", distributions=DISTS).vmid == 9011


def test_name_selected_over_distribution() -> None:
    templates = [*TEMPLATES, _t(9020, None, None, name="rocky9")]
    assert pick_template(templates, "rocky9", distributions=DISTS).vmid == 9020


@pytest.mark.parametrize("selector", [None, "", "  "])
def test_no_selector(selector: str | None) -> None:
    with pytest.raises(InvalidRequest, match=r"no template given.*rocky9") as info:
        pick_template(TEMPLATES, selector, distributions=DISTS)
    assert info.value.field == "template"


def test_ambiguous_name_lists_the_vmids() -> None:
    with pytest.raises(Conflict, match=r"9005 \(dup\), 9006 \(dup\)"):
        pick_template(TEMPLATES, "dup", distributions=DISTS)


def test_not_a_template() -> None:
    with pytest.raises(InvalidRequest, match=r"VM 510 \(web\) is not a template"):
        pick_template(TEMPLATES, 510, non_templates={510: "web"})
    with pytest.raises(InvalidRequest, match="'web' is VM 510, not a template"):
        pick_template(TEMPLATES, "web", non_templates={510: "web"})


def test_not_found_messages() -> None:
    with pytest.raises(NotFound, match="no template with VMID 9999; templates: 9000"):
        pick_template(TEMPLATES, 9999)
    with pytest.raises(NotFound, match="no template of ubuntu2404 yet; build one"):
        pick_template(TEMPLATES, "ubuntu2404", distributions=DISTS)
    with pytest.raises(NotFound, match="no template named 'nope'"):
        pick_template(TEMPLATES, "nope", distributions=DISTS)


# --- naming -----------------------------------------------------------------------------------


def test_default_name() -> None:
    assert default_vm_name("rocky9", date(2025, 3, 7)) == "rocky9-250307"
    assert template_name("debian12") == "debian12-template"


def test_unique_name() -> None:
    assert unique_name("rocky9-250307", []) == "rocky9-250307"
    assert unique_name("a", ["a"]) == "a-2"
    assert unique_name("a", ["a", "a-2", "a-3"]) == "a-4"
    long = "x" * 63
    assert len(unique_name(long, [long])) == 63
    assert unique_name(long, [long]).endswith("-2")


@pytest.mark.parametrize("name", ["web1", "rocky9-250307", "A-b-9", "x" * 63, "1"])
def test_valid_dns_labels(name: str) -> None:
    assert validate_dns_label(name) == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "must not be empty"),
        ("-web", "not a DNS label"),
        ("web-", "not a DNS label"),
        ("web_1", "not a DNS label"),
        ("web.example", "not a DNS label"),
        ("x" * 64, "at most 63"),
    ],
)
def test_invalid_dns_labels(name: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message) as info:
        validate_dns_label(name)
    assert info.value.field == "name"


@given(st.from_regex(r"[a-z][a-z0-9-]{0,50}[a-z0-9]", fullmatch=True), st.integers(0, 20))
def test_unique_name_is_a_fresh_label(base: str, taken_count: int) -> None:
    taken = [base] + [f"{base}-{n}" for n in range(2, taken_count + 2)]
    name = unique_name(base, taken)
    assert name not in taken
    assert validate_dns_label(name) == name


# --- disk sizing: the DESIGN table ------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "minimum", "expected"),
    [
        ("32G", "20G", None),  # 32G/20G -> 32G, no resize
        ("32G", "50G", "50G"),  # 32G/50G -> 50G
        ("10G", "20G", "20G"),  # 10G/20G -> 20G
        ("20G", "20G", None),
        ("3584M", "4G", "4G"),
    ],
)
def test_disk_resize_table(current: str, minimum: str, expected: str | None) -> None:
    result = disk_resize_needed(Size(current), Size(minimum))
    assert result == (Size(expected) if expected else None)


def test_no_minimum_means_no_resize() -> None:
    assert disk_resize_needed(Size("3G"), None) is None


@given(st.integers(0, 2**44), st.integers(0, 2**44))
def test_never_shrinks(current: int, minimum: int) -> None:
    result = disk_resize_needed(Size(current), Size(minimum))
    final = result or Size(current)
    assert final >= Size(current)
    assert final >= Size(minimum)
    assert final == max(Size(current), Size(minimum))


def test_normalize_tags_like_pve() -> None:
    assert normalize_tags(["Ubuntu,template", "ubuntu"]) == ["template", "ubuntu"]
    assert normalize_tags(["b;a c"]) == ["a", "b", "c"]
    with pytest.raises(InvalidRequest, match="not a tag"):
        normalize_tags(["bad/tag"])
