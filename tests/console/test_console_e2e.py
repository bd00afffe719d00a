"""`solti sandbox` as a person would use it, scripted on stdin, as a real subprocess.

One run (the world takes seconds to start): help, a VM created with live progress, a
second rocky9 template build approved by another person, and the create modal filled field
by field (the template picked by typing `rocky9`) with a field error corrected. Each test
reads one part of that session's output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

SCRIPT = """\
/solti help
/solti vm create rocky9
wait for is ready
/solti template build rocky9
as @bob
click Approve
wait for template rocky9-template is built
as @alice
/solti vm create
rocky9
web-1

bad-size









y
20G
y
wait for VM web-1 is ready
/solti audit --user @bob
/solti report
/foo bar
modal
click 2
vm list
home
quit
"""


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture(scope="module")
def run() -> Run:
    launcher = "import sys; from solti.cli import main; sys.argv = ['solti', 'sandbox']; main()"
    done = subprocess.run(
        [sys.executable, "-c", launcher],
        input=SCRIPT,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": "/tmp",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.environ["PYTHONPATH"],  # src, when the project is not installed
        },
    )
    return Run(done.returncode, done.stdout, done.stderr)


def test_exits_cleanly_at_the_end_of_the_script(run: Run) -> None:
    assert run.code == 0, run.err[-2000:]
    assert "Traceback" not in run.out + run.err
    assert run.out.rstrip().endswith("bye")


def test_help_is_rendered_with_a_numbered_button(run: Run) -> None:
    assert "/solti vm create rocky9" in run.out
    assert "[1 Customize…]" in run.out


def test_vm_create_shows_progress_edits_and_the_created_vm(run: Run) -> None:
    assert "#infra · solti (edited)" in run.out
    assert "(0/5)" in run.out and "(4/5)" in run.out
    flat = " ".join(run.out.split())  # the renderer wraps long lines
    ready = flat.index("is ready.")
    assert "VM rocky9-" in flat[ready - 40 : ready]
    assert "VMID 500" in flat[ready - 200 : ready]
    assert "(in thread)" in run.out


def test_template_build_goes_through_approval_by_another_person(run: Run) -> None:
    request = run.out.index("Build a new template for rocky9")
    assert "[2 Approve] [3 Deny]" in run.out[request:]
    assert "now acting as @bob (approver)" in run.out
    assert "Approved by @bob" in run.out
    assert "only @alice sees this" in run.out


def test_modal_walk_shows_the_field_error_and_submits_after_a_fix(run: Run) -> None:
    assert "[ Create a VM ]" in run.out
    assert "Enter keeps what is shown" in run.out  # how to fill it is said once
    assert "Minimum disk [plain_text_input, optional]: bad-size" in run.out
    error = run.out.index("! Minimum disk:")
    fixed = run.out.index("Minimum disk [plain_text_input, optional] (now: bad-size): 20G")
    assert error < fixed < run.out.index("(modal submitted)")
    assert run.out.count("[ Create a VM ]") == 1  # only the wrong field is asked again
    assert "VM web-1 is ready" in " ".join(run.out.split())


def test_template_choices_are_numbered_once_and_rocky9_picks_the_latest_build(run: Run) -> None:
    walk = run.out[run.out.index("[ Create a VM ]") :]
    assert "    1) rocky9 · " in walk and "(VMID 9001)" in walk.split("\n    2) ")[0]
    assert "9001 = " not in walk and "9000 = " not in walk  # the VMID is not said twice
    assert "no option rocky9" not in walk  # two rocky9 builds: the first listed is taken
    flat = " ".join(walk.split())
    ready = flat.index("VM web-1 is ready")
    assert "(VMID 9001)" in flat[ready : ready + 400]  # cloned from the latest build


def test_mentions_are_sent_as_slack_sends_them(run: Run) -> None:
    audit = run.out.index("/solti audit --user @bob")
    assert "needs a Slack mention" not in run.out[audit:]
    assert "Audit" in run.out[audit : run.out.index("> /solti report")]


def test_a_reply_that_comes_after_the_ack_is_shown_before_the_next_prompt(run: Run) -> None:
    report = run.out[run.out.index("> /solti report") :]
    assert "Template report" in report[: report.index("> /foo bar")]


def test_console_mistakes_are_explained(run: Run) -> None:
    assert "/foo is not a command in this workspace; the bot's is /solti" in run.out
    assert "no modal is open" in run.out
    # the Approve button was replaced by "Approved by @bob": its old number clicks nothing
    assert "button 2 (Approve) is no longer there: that message was edited" in run.out
    assert "unknown command 'vm'; did you mean: /solti vm list" in run.out
    assert "Unhandled request" not in run.out + run.err


def test_home_shows_the_home_tab_with_leases_and_buttons(run: Run) -> None:
    home = run.out[run.out.index("Home tab of @alice") :]
    assert "Your VMs" in home and "web-1" in home and "left" in home
    assert "Extend]" in home and "Remove (confirm)]" in home
