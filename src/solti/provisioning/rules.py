"""The original Solti-Platforms rules, as pure functions.

VMID ranges, template selection priority, naming and disk sizing are kept exactly as docs/design.md
("The original rules") states them, so they are tested here without any server.

Template naming: every build of a distribution is named ``{distribution}-template`` (as the
original role does), so PVE holds several VMs of that name. Asking for that name selects the
distribution's latest build, like asking for the distribution; any other name matching more than
one template is ambiguous and the error lists the VMIDs to choose from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Literal

from solti.provisioning.errors import Conflict, InvalidRequest, NotFound, RangeExhausted

if TYPE_CHECKING:
    from solti.provisioning.models import TemplateInfo
    from solti.provisioning.sizes import Size

__all__ = [
    "AUTO_RANGE",
    "MANUAL_RANGE",
    "TEMPLATE_RANGE",
    "VMID_MAX",
    "VMID_MIN",
    "choose_vmid",
    "classify_template_selector",
    "default_vm_name",
    "disk_resize_needed",
    "next_free_after",
    "next_template_vmid",
    "normalize_tags",
    "pick_template",
    "template_name",
    "unique_name",
    "validate_dns_label",
]

TEMPLATE_RANGE = range(9000, 10000)
AUTO_RANGE = range(500, 9000)
MANUAL_RANGE = range(100, 500)
VMID_MIN, VMID_MAX = 100, 999_999_999

SelectorKind = Literal["vmid", "name", "distribution"]

# --- VMIDs ------------------------------------------------------------------------------------


def _span(r: range) -> str:
    return f"{r.start}-{r.stop - 1}"


def next_template_vmid(used_ids: Iterable[int]) -> int:
    """Highest VMID used in the template range + 1; 9000 when the range is empty."""
    in_range = [vmid for vmid in used_ids if vmid in TEMPLATE_RANGE]
    if not in_range:
        return TEMPLATE_RANGE.start
    highest = max(in_range)
    if highest + 1 not in TEMPLATE_RANGE:
        raise RangeExhausted(
            f"template VMIDs {_span(TEMPLATE_RANGE)} are exhausted ({highest} is used); "
            "destroy old templates to free the top of the range"
        )
    return highest + 1


def _lowest_free(used: set[int], above: int | None = None) -> int:
    start = AUTO_RANGE.start if above is None else max(AUTO_RANGE.start, above + 1)
    for vmid in range(start, AUTO_RANGE.stop):
        if vmid not in used:
            return vmid
    raise RangeExhausted(
        f"no free VMID left in {_span(AUTO_RANGE)}; give one with --vmid "
        f"({_span(MANUAL_RANGE)} or any free id outside {_span(TEMPLATE_RANGE)})"
    )


def choose_vmid(used_ids: Iterable[int], requested: int | None = None) -> int:
    """Validate a requested VMID, or take the lowest free one of the auto range.

    ``used_ids`` must be ONE snapshot (``/cluster/resources``) so the choice is consistent.
    """
    used = set(used_ids)
    if requested is None:
        return _lowest_free(used)
    if not VMID_MIN <= requested <= VMID_MAX:
        raise InvalidRequest(
            f"{requested} is not a VMID; use {VMID_MIN}-{VMID_MAX} "
            f"(manual range {_span(MANUAL_RANGE)})",
            field="vmid",
        )
    if requested in TEMPLATE_RANGE:
        raise InvalidRequest(
            f"{requested} is in the template range {_span(TEMPLATE_RANGE)}; use any free id "
            f"outside it ({_span(MANUAL_RANGE)} is kept for hand-picked ones) or leave it out "
            f"to get one from {_span(AUTO_RANGE)}",
            field="vmid",
        )
    if requested in used:
        raise Conflict(f"vmid: VM {requested} already exists; choose another id or leave it out")
    return requested


def next_free_after(used_ids: Iterable[int], failed_id: int) -> int:
    """After losing a race for ``failed_id``, the next free auto id above it."""
    used = set(used_ids) | {failed_id}
    return _lowest_free(used, above=failed_id)


# --- template selection -----------------------------------------------------------------------


def template_name(distribution: str) -> str:
    """The name every build of ``distribution`` gets."""
    return f"{distribution}-template"


def classify_template_selector(
    value: int | str,
    distributions: Iterable[str],
    template_names: Iterable[str] = (),
) -> tuple[SelectorKind, int | str]:
    """Decide what a selector means, with the priority VMID > name > distribution.

    A string that is neither a known template name nor a distribution is a name, so the
    not-found error speaks of names.
    """
    if isinstance(value, bool):
        raise InvalidRequest(f"{value!r} is not a template", field="template")
    if isinstance(value, int):
        return ("vmid", value)
    text = value.strip()
    if text.isdigit():
        return ("vmid", int(text))
    if text in set(template_names):
        return ("name", text)
    if text in set(distributions):
        return ("distribution", text)
    return ("name", text)


def _built(template: TemplateInfo) -> tuple[datetime, int]:
    when = template.build_date or datetime.min.replace(tzinfo=UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when, template.vmid)


def _latest(templates: Sequence[TemplateInfo]) -> TemplateInfo:
    return max(templates, key=_built)


def _of_distribution(templates: Sequence[TemplateInfo], dist: str) -> list[TemplateInfo]:
    return [
        t
        for t in templates
        if t.distribution == dist or (t.distribution is None and t.name == template_name(dist))
    ]


def _listing(templates: Sequence[TemplateInfo]) -> str:
    return ", ".join(f"{t.vmid} ({t.name})" for t in sorted(templates, key=lambda t: t.vmid))


def pick_template(
    templates: Sequence[TemplateInfo],
    selector: int | str | None,
    *,
    distributions: Iterable[str] = (),
    non_templates: Mapping[int, str] | None = None,
) -> TemplateInfo:
    """Find the template a selector means; clear errors for none, ambiguous, not-a-template.

    ``non_templates`` maps VMIDs of ordinary VMs to their names, so asking for one of them says
    it is not a template instead of "not found".
    """
    others = dict(non_templates or {})
    dists = sorted(set(distributions))
    hint = "name a distribution" + (f" ({', '.join(dists)})" if dists else "")
    hint += ", a template name or a template VMID"
    if selector is None or (isinstance(selector, str) and not selector.strip()):
        raise InvalidRequest(f"no template given; {hint}", field="template")
    kind, value = classify_template_selector(selector, dists, [t.name for t in templates])
    if kind == "vmid":
        for t in templates:
            if t.vmid == value:
                return t
        if value in others:
            raise InvalidRequest(
                f"VM {value} ({others[value]}) is not a template; clone from a template",
                field="template",
            )
        known = f"; templates: {_listing(templates)}" if templates else ""
        raise NotFound(f"template: no template with VMID {value}{known}")
    if kind == "distribution":
        builds = _of_distribution(templates, str(value))
        if not builds:
            raise NotFound(
                f"template: no template of {value} yet; build one with `template build {value}`"
            )
        return _latest(builds)
    matches = [t for t in templates if t.name == value]
    if len(matches) == 1:
        return matches[0]
    if matches:
        dists_of = {t.distribution for t in matches}
        if len(dists_of) == 1 and value == template_name(str(next(iter(dists_of)))):
            return _latest(matches)
        raise Conflict(
            f"template: {len(matches)} templates are named {value!r}: {_listing(matches)}; "
            "give the VMID instead"
        )
    named_vms = sorted(vmid for vmid, name in others.items() if name == value)
    if named_vms:
        raise InvalidRequest(
            f"{value!r} is VM {', '.join(map(str, named_vms))}, not a template", field="template"
        )
    raise NotFound(f"template: no template named {value!r}; {hint}")


# --- naming -----------------------------------------------------------------------------------

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)


def validate_dns_label(name: str) -> str:
    """A VM name becomes the guest's hostname, so it must be one DNS label."""
    if not isinstance(name, str) or not name:
        raise InvalidRequest("a name must not be empty", field="name")
    if len(name) > 63:
        raise InvalidRequest(f"{name!r} is {len(name)} characters; at most 63", field="name")
    if not _DNS_LABEL.match(name):
        raise InvalidRequest(
            f"{name!r} is not a DNS label; use letters, digits and '-', "
            "not starting or ending with '-'",
            field="name",
        )
    return name


def default_vm_name(distribution: str, today: date) -> str:
    """``{distribution}-{YYMMDD}``, the original role's default."""
    return f"{distribution}-{today:%y%m%d}"


def unique_name(base: str, existing_names: Iterable[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... when taken (PVE does not keep names unique)."""
    taken = set(existing_names)
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: 63 - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        n += 1


# --- disks and tags ---------------------------------------------------------------------------


def disk_resize_needed(current: Size, minimum: Size | None) -> Size | None:
    """The size to grow to, or None: grow only when smaller than the minimum; never shrink."""
    if minimum is None or current >= minimum:
        return None
    return minimum


_TAG = re.compile(r"^[a-z0-9_][a-z0-9_\-+.]*$", re.IGNORECASE)


def normalize_tags(tags: Iterable[str]) -> list[str]:
    """Tags as PVE stores them: lower-cased, de-duplicated, sorted; bad tags are refused."""
    result: set[str] = set()
    for tag in tags:
        for part in re.split(r"[,; ]+", tag.strip()):
            if not part:
                continue
            if not _TAG.match(part):
                raise InvalidRequest(
                    f"{part!r} is not a tag; use letters, digits and _ - + .", field="tags"
                )
            result.add(part.lower())
    return sorted(result)
