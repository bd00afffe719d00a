"""The repository stands alone: no file sends a reader, a test or a script outside it.

The project grew next to a folder of reference material (one level up, called "shared"); a clone
elsewhere has no such folder. CI (`.ci/run`) proves the suite passes from a clone with nothing
beside it; this test names the file and line that would break that, before CI runs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {
    ".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis",
    "build", "dist", "site",
}  # fmt: skip
# Written in pieces so this file does not match itself.
_SIBLING = "shared"
OUTSIDE = re.compile(
    r"\.\./" + _SIBLING + r"\b"
    r"|(?<![\w./-])" + _SIBLING + r"/(?:reference|slack-specs|pve-api|hooks|DESIGN\.md)"
    r"|\.parent\s*/\s*[\"']" + _SIBLING + r"[\"']"  # ROOT.parent / "..." in Python
)
# HACKING.md belongs to the lead of the change that vendored everything; its one line is
# rewritten with the merge. A stale entry here fails the test, so it cannot outlive the edit.
AWAITING_EDIT: dict[str, int] = {}


def _repository_files() -> list[Path]:
    """Tracked and untracked-but-not-ignored files (git), else a walk without caches."""
    git = shutil.which("git")
    if git and (ROOT / ".git").exists():
        listed = subprocess.run(
            [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout.decode()
        return [ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()]
    return [
        path
        for path in ROOT.rglob("*")
        if path.is_file()
        and not any(part in SKIP_DIRS or part.endswith(".egg-info") for part in path.parts)
    ]


def _offending_lines() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in _repository_files():
        try:
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary data (the gzip-compressed schema) names no paths
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                relative = path.relative_to(ROOT).as_posix()
                found.setdefault(relative, []).append(f"{number}: {line.strip()}")
    return found


def test_the_pattern_catches_what_it_is_for() -> None:
    for line in (
        "reads ../" + _SIBLING + "/pve-api/apidata.json",
        "see `" + _SIBLING + "/reference/slack-testing.md` §4",
        'ROOT.parent / "' + _SIBLING + '" / "slack-specs"',
        "`../" + _SIBLING + "/DESIGN.md` fixes the contracts",
    ):
        assert OUTSIDE.search(line), line
    for line in ("shared_storage=True", "(shared with `table_block`)", "docs/design.md"):
        assert not OUTSIDE.search(line), line


def test_no_file_refers_outside_the_repository() -> None:
    found = _offending_lines()
    waiting = {name: found.pop(name) for name in list(found) if name in AWAITING_EDIT}
    assert not found, found
    for name, count in AWAITING_EDIT.items():
        assert len(waiting.get(name, [])) == count, (
            f"{name} changed: update AWAITING_EDIT (remove the entry once it is clean)"
        )


def test_ci_runs_the_readme_command_in_a_lone_clone() -> None:
    script = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "set -euo pipefail" in script  # a failing `make test` fails CI
    assert re.search(r"^git clone --quiet --no-hardlinks .+/solo/solti-chatops\"?$", script, re.M)
    commands = [line.strip() for line in script.splitlines() if line.strip()]
    assert commands[-1] == "make test"
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Run the tests", 1)[1]
    assert re.search(r"^```[a-z]*\nmake test\n```", section, re.MULTILINE)
