"""The template-version report: one section per distribution, split to fit Slack's limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from solti.bot.blocks.elements import Block, age, context, divider, escape, header, section, when

BLOCKS_PER_MESSAGE = 45  # Slack allows 50; keep room for a header and a footer.
CHARS_PER_MESSAGE = 10_000  # below the undocumented ~13k msg_blocks_too_long limit


@dataclass
class DistributionReport:
    """Facts for one distribution, gathered by bot.reports from provisioning."""

    distribution: str
    latest: Any | None
    older: list[Any] = field(default_factory=list)
    clones: int = 0
    update: Any | None = None
    # The latest build's copies on other nodes (``--all-nodes``): one build, said once.
    copies: list[Any] = field(default_factory=list)


def _upstream(update: Any | None) -> str:
    if update is None:
        return "upstream not checked"
    if update.state == "update_available":
        newer = f" ({escape(update.upstream_version)})" if update.upstream_version else ""
        return f":arrow_up: *upstream has a newer image*{newer}"
    if update.state == "current":
        return ":white_check_mark: matches upstream"
    return f":grey_question: upstream unknown ({escape(update.reason or 'no answer')})"


def _not_built(update: Any | None) -> str:
    """A distribution with no template, said once: provisioning's "upstream unknown (no
    template built yet)" only repeats it, so only upstream's version or a real failure to
    ask is added."""
    text = "no template built yet."
    if update is None:
        return text
    if update.upstream_version:
        return text + f" Upstream image: {escape(update.upstream_version)}."
    if update.reason and "no template" not in update.reason:
        return text + f" {_upstream(update)}"
    return text


def distribution_blocks(item: DistributionReport, now: datetime) -> list[Block]:
    if item.latest is None:
        return [section(f"*{escape(item.distribution)}*: {_not_built(item.update)}")]
    t = item.latest
    checksum = (t.checksum or "?")[:12]
    text = (
        f"*{escape(item.distribution)}*: `{t.vmid}` {escape(t.name)}, version "
        f"{escape(t.version or 'unknown')}, built {when(t.build_date)} ({age(t.build_date, now)}), "
        f"checksum `{checksum}`\n{_upstream(item.update)} · {item.clones} VM(s) cloned from it"
    )
    if item.copies:
        where = ", ".join(f"`{c.vmid}` on {escape(c.node)}" for c in item.copies)
        text += f"\nCopies of this build: {where}"
    blocks = [section(text)]
    if item.older:
        kept = ", ".join(f"`{o.vmid}` {escape(o.version or o.name)}" for o in item.older[:20])
        blocks.append(context(f"Older builds kept: {kept}"))
    return blocks


def report_messages(
    items: Sequence[DistributionReport], now: datetime, fleet: Sequence[Block] = ()
) -> list[dict[str, Any]]:
    """Every message stays within 50 blocks and well under the text limit; ``fleet`` (leases
    ending, outdated clones: ``blocks.fleet``) follows the distributions."""
    parts: list[list[Block]] = [distribution_blocks(item, now) for item in items]
    if fleet:
        parts += [[divider()]] + [[block] for block in fleet]
    if not items:
        parts.append([section("No distributions in the catalog.")])
    return _split(parts, _summary(items), now)


@dataclass
class ClusterReport:
    """One cluster's part of the report (several clusters configured)."""

    cluster: str
    items: list[DistributionReport]
    fleet: list[Block] = field(default_factory=list)


def report_messages_clusters(
    clusters: Sequence[ClusterReport], unanswered: Sequence[str], now: datetime
) -> list[dict[str, Any]]:
    """The report over several clusters: a section per cluster (its distributions, then its
    fleet), then one line per cluster that did not answer (``unanswered``, already worded)."""
    parts: list[list[Block]] = []
    for part in clusters:
        parts.append([header(f"Cluster {part.cluster}")])
        parts += [distribution_blocks(item, now) for item in part.items]
        if not part.items:
            parts.append([section("No distributions in the catalog.")])
        parts += [[block] for block in part.fleet]
        parts.append([divider()])
    parts += [[section(f":warning: {line}")] for line in unanswered]
    items = [item for part in clusters for item in part.items]
    names = ", ".join(part.cluster for part in clusters) or "none"
    summary = _summary(items) + f" on cluster(s) {names}"
    if unanswered:
        summary += f"; {len(unanswered)} cluster(s) did not answer"
    return _split(parts, summary, now)


def _summary(items: Sequence[DistributionReport]) -> str:
    stale = [
        i.distribution
        for i in items
        if i.update is not None and i.update.state == "update_available"
    ]
    summary = f"Template report: {len(items)} distribution(s)"
    if stale:
        summary += f"; newer upstream images for {', '.join(sorted(set(stale)))}"
    return summary


def _split(parts: Sequence[list[Block]], summary: str, now: datetime) -> list[dict[str, Any]]:
    """``parts`` (each kept whole) into messages within Slack's block and text limits."""
    messages: list[list[Block]] = []
    current: list[Block] = [header("Template report")]
    chars = 0
    for blocks in parts:
        size = sum(len(str(b)) for b in blocks)
        if len(current) + len(blocks) > BLOCKS_PER_MESSAGE or chars + size > CHARS_PER_MESSAGE:
            messages.append(current)
            current = [header("Template report (continued)")]
            chars = 0
        current.extend(blocks)
        chars += size
    current.append(divider())
    current.append(context(f"Generated {when(now)}"))
    messages.append(current)
    return [
        {"text": summary if n == 0 else summary + " (continued)", "blocks": b}
        for n, b in enumerate(messages)
    ]
