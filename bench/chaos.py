"""Chaos and fuzz runs too long for the suite. ``--fuzz N``: N fuzz cases against a real bot;
``--chaos``: creates and builds through the bot while the simulator arms random faults.

    .venv/bin/python bench/chaos.py --fuzz 10000
    .venv/bin/python bench/chaos.py --chaos [--creates 200 --builds 20 --in-flight 20 --rate 0.2]

``--chaos`` (``tests/recovery/chaos_run.py``) prints the faults injected, the outcomes, and what
must be zero: orphan VMs, duplicate VMIDs and names, records and Slack messages not final,
commands unanswered, the bot's failed answers and tracebacks; exit 1 when any is not zero. The
figures of the last run are in docs/operations.md ("Chaos").

Builds the world the bot's tests run in (simulated Proxmox and image mirror, the Slack
stand-in, the bot over HTTP, signed requests), then runs the cases of ``tests/fuzz/cases.py``
(slash texts 40 %, interactive payloads 40 %, policy files 20 %) and prints, per kind and in
all: cases, unhandled exceptions, HTTP 5xx, bad input answered without a sentence, VMs made
by malformed commands. Exit 1 when any of those is not zero. The figures of the last run are
in docs/operations.md ("Fuzzing").
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from hypothesis import HealthCheck, given, settings  # noqa: E402

from solti.sandbox.environment import SimEnvironment  # noqa: E402
from solti.sandbox.slack import SlackStandIn  # noqa: E402
from tests.bot.conftest import INFRA, POLICY, make_harness  # noqa: E402
from tests.fuzz.cases import (  # noqa: E402
    ExceptionCounter,
    Tally,
    check_payload,
    check_policy_file,
    check_slash,
    payloads,
    policy_files,
    slash_texts,
)


def _run(strategy: object, check: object, count: int) -> None:
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)  # type: ignore[arg-type]
    def run(value: object) -> None:
        check(value)  # type: ignore[operator]

    run()


def fuzz(total: int) -> int:
    logging.basicConfig(level=logging.CRITICAL)  # the figures, not the bot's chatter
    counter = ExceptionCounter()
    logging.getLogger().addHandler(counter)
    tallies = {"slash": Tally(), "payload": Tally(), "policy": Tally()}
    with (
        SimEnvironment(policy=POLICY) as sim,
        SlackStandIn() as standin,
        tempfile.TemporaryDirectory() as tmp,
    ):
        standin.add_channel(INFRA, "infra")
        bot = make_harness(sim, standin, Path(tmp))
        before = {v.vmid for v in bot.provisioner.list_vms()}
        try:
            slash, payload = tallies["slash"], tallies["payload"]
            _run(slash_texts, lambda t: check_slash(bot.user, t, slash), total * 2 // 5)
            _run(payloads, lambda p: check_payload(bot.user, p, payload), total * 2 // 5)
            policy, file = tallies["policy"], Path(tmp) / "policy.yaml"
            _run(policy_files, lambda d: check_policy_file(file, d, policy), total // 5)
            bot.runtime.work.shutdown(wait=True)
        finally:
            bot.server.stop()
        slash.vms_made = len({v.vmid for v in bot.provisioner.list_vms()} - before)
    slash.unhandled += counter.records  # the bot's own tracebacks, whichever input caused them
    everything = Tally(
        cases=sum(t.cases for t in tallies.values()),
        server_errors=sum(t.server_errors for t in tallies.values()),
        silent=sum(t.silent for t in tallies.values()),
        vms_made=sum(t.vms_made for t in tallies.values()),
        unhandled=[u for t in tallies.values() for u in t.unhandled],
    )
    for name, tally in tallies.items():
        print(f"{name:8} {tally.line()}")
    print(f"{'all':8} {everything.line()}")
    for line in everything.unhandled[:10]:
        print("  unhandled:", line)
    bad = everything.server_errors + everything.silent + everything.vms_made
    return 1 if bad or everything.unhandled else 0


def chaos(args: argparse.Namespace) -> int:
    from tests.recovery.chaos_run import run_chaos

    logging.basicConfig(level=logging.CRITICAL)  # the figures, not the bot's chatter
    from solti.sandbox.pve.faults import CHAOS_KINDS

    kinds = CHAOS_KINDS + (("lost_answer",) if args.lost_answers else ())
    figures = run_chaos(
        args.creates, args.builds, args.in_flight, args.rate, args.seed, kinds=kinds
    )
    for line in figures.lines():
        print(line)
    for line in figures.unhandled[:10]:
        print("  unhandled:", line)
    return 1 if figures.problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fuzz", type=int, metavar="N", help="run N fuzz cases")
    parser.add_argument("--chaos", action="store_true", help="run the chaos run")
    parser.add_argument("--creates", type=int, default=200, help="VM creates (default 200)")
    parser.add_argument("--builds", type=int, default=20, help="template builds (default 20)")
    parser.add_argument("--in-flight", type=int, default=20, help="at once (default 20)")
    parser.add_argument("--rate", type=float, default=0.2, help="share of faulty requests")
    parser.add_argument("--seed", type=int, default=12, help="seed of the faults' dice")
    parser.add_argument(
        "--lost-answers", action="store_true", help="also: changes whose answer is lost"
    )
    args = parser.parse_args()
    if args.chaos:
        return chaos(args)
    if not args.fuzz:
        parser.error("nothing to do: give --fuzz N or --chaos")
    return fuzz(args.fuzz)


if __name__ == "__main__":
    sys.exit(main())
