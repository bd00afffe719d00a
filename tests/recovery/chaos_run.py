"""The chaos run of issue 12: many creates and builds through the bot while Proxmox misbehaves.

A bot composed as `solti bot` composes it (``tests.bot.conftest.make_harness``: composition's
provisioner, runtime and Bolt app over waitress) serves signed slash commands from the Slack
stand-in's user; the simulator arms random faults (``Faults.chaos``: HTTP 500s, dropped
connections, failed and slow tasks of every type, held locks) on a share of the API requests.
Each create comes from its own Slack user (so its messages are told apart), each build is
approved by the approver as soon as its card appears. A watcher asks `/solti help` and
`/healthz` throughout. At the end, with the faults disarmed, the figures: orphan VMs (in PVE,
but no `ok` record made them), duplicate VMIDs and names, records not final, progress messages
not final, commands nobody answered, the bot's non-200 answers and Slack ack timeouts, and
tracebacks in the log. Used by ``bench/chaos.py --chaos`` and, small, by the test suite.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn
from tests.bot.conftest import APPROVALS, APPROVER, INFRA, KEY, POLICY, REPORTS, make_harness
from tests.fuzz.cases import ExceptionCounter

BUILDS = ("rocky9", "debian12", "rocky10", "debian13")
FINAL_WORDS = (" is ready on ", " is built", " failed")
NOTICE = "was approved by"  # the requester's notice in the channel, not the progress message
CHAOS_POLICY = {**POLICY, "quotas": {"max_vms_per_user": 5}}


@dataclass
class Job:
    kind: str  # create | build
    user: str
    text: str
    sent: bool = False
    status: int | None = None
    ts: str | None = None  # its progress message
    final: str | None = None  # the final message's text, or the reply when none was posted


@dataclass
class Figures:
    creates: int
    builds: int
    in_flight: int
    rate: float
    seconds: float = 0.0
    api_requests: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    created: int = 0
    create_failed: int = 0
    built: int = 0
    build_failed: int = 0
    orphan_vms: list[int] = field(default_factory=list)
    duplicate_vmids: list[int] = field(default_factory=list)
    duplicate_names: list[str] = field(default_factory=list)
    ok_but_missing: list[int] = field(default_factory=list)
    records_not_final: int = 0
    messages_not_final: int = 0
    unanswered: int = 0
    said_nothing_changed_wrongly: int = 0
    slash_not_200: int = 0
    ack_timeouts: int = 0
    probes: int = 0
    probes_failed: int = 0
    unhandled: list[str] = field(default_factory=list)

    @property
    def problems(self) -> int:
        """Everything that must be zero."""
        return (
            len(self.orphan_vms)
            + len(self.duplicate_vmids)
            + len(self.duplicate_names)
            + len(self.ok_but_missing)
            + self.records_not_final
            + self.messages_not_final
            + self.unanswered
            + self.said_nothing_changed_wrongly
            + self.slash_not_200
            + self.ack_timeouts
            + self.probes_failed
            + len(self.unhandled)
        )

    def lines(self) -> list[str]:
        injected = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())) or "none"
        return [
            f"creates {self.creates}, builds {self.builds}, {self.in_flight} in flight, "
            f"faults on {self.rate:.0%} of requests, {self.seconds:.0f} s",
            f"API requests {self.api_requests}; faults injected: {injected}",
            f"creates ok {self.created}, failed {self.create_failed}; "
            f"builds ok {self.built}, failed {self.build_failed}",
            f"orphan VMs {len(self.orphan_vms)} {self.orphan_vms or ''}".rstrip(),
            f"duplicate VMIDs {len(self.duplicate_vmids)}, duplicate names "
            f"{len(self.duplicate_names)}, ok records whose VM is missing "
            f"{len(self.ok_but_missing)}",
            f"records not final {self.records_not_final}; Slack messages not final "
            f"{self.messages_not_final}; commands unanswered {self.unanswered}; "
            f"'nothing was changed' said of a VM that exists {self.said_nothing_changed_wrongly}",
            f"bot answering: slash commands not 200 {self.slash_not_200}, Slack ack timeouts "
            f"{self.ack_timeouts}, health probes {self.probes} (failed {self.probes_failed})",
            f"unhandled exceptions {len(self.unhandled)}",
        ]


class _Watcher(threading.Thread):
    """Asks the bot `/solti help` and `GET /healthz` every half second while the run lasts."""

    def __init__(self, bot: Any) -> None:
        super().__init__(daemon=True)
        self.bot = bot
        self.stop = threading.Event()
        self.probes = 0
        self.failed = 0

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self.probes += 1
            try:
                health = requests.get(self.bot.server.url + "/healthz", timeout=5)
                reply = self.bot.user.slash("help", user="U0WATCHER")
                if health.status_code != 200 or reply.status_code != 200:
                    self.failed += 1
            except requests.RequestException:
                self.failed += 1


def _jobs(creates: int, builds: int) -> list[Job]:
    jobs = [
        Job("create", f"U0C{i:04d}", f"vm create rocky9 --name chaos-{i:04d}")
        for i in range(creates)
    ]
    every = max(1, creates // max(builds, 1))
    for b in range(builds):
        build = Job("build", f"U0B{b:04d}", f"template build {BUILDS[b % len(BUILDS)]}")
        jobs.insert(min(len(jobs), b * (every + 1)), build)
    return jobs


def _final_text(standin: SlackStandIn, job: Job) -> str | None:
    """The job's final progress message, else the reply it got without one (a refusal).

    The progress message names the requester until it is final (the ready message does not),
    so it is found by the mention once and followed by its ``ts``.
    """
    messages = standin.messages(INFRA)
    if job.ts is None:
        mention = f"<@{job.user}>"
        job.ts = next((m["ts"] for m in messages if mention in m.get("text", "")
                       and NOTICE not in m.get("text", "")), None)  # fmt: skip
    if job.ts is not None:
        text = next((str(m.get("text", "")) for m in messages if m["ts"] == job.ts), "")
        return text if _is_final(text) else None
    replies = [e.get("text", "") for e in standin.ephemerals(job.user)]
    replies = [r for r in replies if r and "waiting for an approver" not in r]
    return replies[-1] if replies else None


def _is_final(text: str) -> bool:
    return any(word in text for word in FINAL_WORDS)


def _approve(bot: Any, clicked: set[str]) -> None:
    for card in bot.standin.messages(APPROVALS):
        if card["ts"] in clicked or "approval_approve" not in str(card.get("blocks")):
            continue
        clicked.add(card["ts"])
        bot.user.click(card, "approval_approve", user=APPROVER)


def run_chaos(
    creates: int = 200,
    builds: int = 20,
    in_flight: int = 20,
    rate: float = 0.2,
    seed: int = 12,
    timeout: float = 1800.0,
    kinds: tuple[str, ...] | None = None,
) -> Figures:
    """Run the chaos and return its figures (see the module docstring)."""
    figures = Figures(creates, builds, in_flight, rate)
    counter = ExceptionCounter()
    logging.getLogger().addHandler(counter)
    started = time.monotonic()
    try:
        with (
            SimEnvironment(policy=CHAOS_POLICY) as sim,
            SlackStandIn() as standin,
            tempfile.TemporaryDirectory() as tmp,
        ):
            for channel, name in ((INFRA, "infra"), (APPROVALS, "approvals"), (REPORTS, "r")):
                standin.add_channel(channel, name)
            bot = make_harness(sim, standin, Path(tmp))
            try:
                base = bot.provisioner.build_template("rocky9", actor="setup", via="cli")
                sim.pve.faults.chaos(rate, seed=seed, kinds=kinds)
                _drive(bot, sim, figures, creates, builds, in_flight, timeout)
                sim.pve.faults.clear()
                _settle(sim)
                _count(bot, sim, figures, base.template.vmid)
                bot.runtime.work.shutdown(wait=True)  # address waits end once faults are off
            finally:
                bot.server.stop()
                bot.runtime.work.shutdown(wait=False)
    finally:
        logging.getLogger().removeHandler(counter)
    figures.unhandled = counter.records
    figures.seconds = time.monotonic() - started
    return figures


def _drive(
    bot: Any,
    sim: SimEnvironment,
    figures: Figures,
    creates: int,
    builds: int,
    in_flight: int,
    timeout: float,
) -> None:
    jobs = _jobs(creates, builds)
    for job in jobs:
        bot.runtime.keys.set(job.user, KEY)
    watcher = _Watcher(bot)
    watcher.start()
    clicked: set[str] = set()
    first_request = len(sim.pve.requests)
    deadline = time.monotonic() + timeout
    try:
        pending = list(jobs)
        while time.monotonic() < deadline:
            open_jobs = [j for j in jobs if j.sent and j.final is None]
            for job in open_jobs:
                job.final = _final_text(bot.standin, job)
            open_count = sum(1 for j in jobs if j.sent and j.final is None)
            while pending and open_count < in_flight:
                job = pending.pop(0)
                job.status = bot.user.slash(job.text, user=job.user).status_code
                job.sent = True
                open_count += 1
            _approve(bot, clicked)
            if not pending and all(j.final is not None for j in jobs):
                break
            time.sleep(0.2)
    finally:
        figures.faults = sim.pve.faults.chaos_tally()
        figures.api_requests = len(sim.pve.requests) - first_request
        watcher.stop.set()
        watcher.join(timeout=10)
    figures.probes, figures.probes_failed = watcher.probes, watcher.failed
    figures.slash_not_200 = sum(1 for j in jobs if j.status != 200)
    figures.unanswered = sum(1 for j in jobs if j.final is None)
    figures.ack_timeouts = len(bot.standin.ack_timeouts)
    for job in jobs:
        text = job.final or ""
        ok = " is ready on " in text or " is built" in text
        if job.kind == "create":
            figures.created += ok
            figures.create_failed += not ok
        else:
            figures.built += ok
            figures.build_failed += not ok
    bot.extras["jobs"] = jobs


def _settle(sim: SimEnvironment) -> None:
    """Let the tasks and held locks the chaos left end (PVE finishes them on its own)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sim.pve.state.guests  # noqa: B018 - reading advances the model's due tasks
        busy = [g for g in sim.pve.state.guests.values() if g.conf.get("lock")]
        if not busy:
            return
        time.sleep(0.5)


def _count(bot: Any, sim: SimEnvironment, figures: Figures, base: int) -> None:
    records = bot.audit.query(limit=None)
    figures.records_not_final = sum(1 for r in records if r.result == "running")
    made = [
        int(r.vmid)
        for r in records
        if r.result == "ok" and r.vmid is not None and r.action in ("vm create", "template build")
    ]
    guests = sim.pve.state.guests
    figures.duplicate_vmids = sorted(v for v, n in Counter(made).items() if n > 1)
    figures.orphan_vms = sorted(set(guests) - set(made) - {base})
    figures.ok_but_missing = sorted(set(made) - set(guests))
    names = Counter(g.conf.get("name") for g in guests.values() if not g.is_template)
    figures.duplicate_names = sorted(str(n) for n, c in names.items() if c > 1)
    jobs: list[Job] = bot.extras.get("jobs", [])
    texts = {m["ts"]: str(m.get("text", "")) for m in bot.standin.messages(INFRA)}
    figures.messages_not_final = sum(
        1 for j in jobs if j.ts is not None and not _is_final(texts.get(j.ts, ""))
    )
    for job in jobs:
        said = (job.final or "") + " ".join(
            e.get("text", "") for e in bot.standin.ephemerals(job.user)
        )
        if "nothing was changed" in said and _named_vm_exists(job, guests):
            figures.said_nothing_changed_wrongly += 1


def _named_vm_exists(job: Job, guests: Any) -> bool:
    name = job.text.rsplit(" ", 1)[-1]
    return any(g.conf.get("name") == name for g in guests.values())
