"""The manual builds with `mkdocs build --strict`, and every `solti …` it shows really exists."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from solti.cli import main as solti

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# Lines in fenced blocks and inline code spans that run solti (optionally after a prompt).
_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_SHELL_FENCES = {"", "sh", "bash", "shell", "console"}
_INLINE = re.compile(r"(?<!`)`(solti [^`\n]+)`(?!`)")
_COMMAND_LINE = re.compile(r"^\s*(?:\$\s+)?(?:\.venv/bin/)?(solti\s.*)$")


def _pages() -> list[Path]:
    return sorted(DOCS.glob("**/*.md"))


def _shown_commands() -> list[tuple[str, str]]:
    """(page, command line) for every solti invocation shown in the docs."""
    found: list[tuple[str, str]] = []
    for page in _pages():
        text = page.read_text("utf-8")
        for info, block in _FENCE.findall(text):
            if info.strip() not in _SHELL_FENCES:
                continue  # output, JSON, YAML: not commands
            for line in block.splitlines():
                match = _COMMAND_LINE.match(line)
                if match:
                    found.append((page.name, match.group(1).split(" #", 1)[0].strip()))
        prose = _FENCE.sub("", text)
        for span in _INLINE.findall(prose):
            # `solti bot: SLACK_BOT_TOKEN: ...` quotes a message, not a command.
            if not span.split()[1].endswith(":"):
                found.append((page.name, span.strip()))
    return found


def _resolve(line: str) -> tuple[click.Command, list[str], str]:
    """Walk the click tree along the words of `line`; return the command and leftover words."""
    words = shlex.split(line.replace("\\", ""))[1:]
    command: click.Command = solti
    path = "solti"
    ctx = click.Context(solti)
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        sub = command.get_command(ctx, words[0])
        assert sub is not None, f"`{path} {words[0]}` does not exist"
        assert "not available" not in (sub.help or ""), f"`{path} {words[0]}` is not built"
        command, path, words = sub, f"{path} {words[0]}", words[1:]
    return command, words, path


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").is_file()


def test_every_page_is_in_the_nav() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.Loader)

    def walk(items: list) -> list[str]:
        out: list[str] = []
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            out.extend(walk(value) if isinstance(value, list) else [value])
        return out

    listed = set(walk(config["nav"]))
    present = {str(page.relative_to(DOCS)) for page in _pages()}
    assert present == listed


def test_docs_show_solti_commands() -> None:
    pages = {page for page, _ in _shown_commands()}
    assert {"getting-started.md", "commands.md", "proxmox.md"} <= pages


@pytest.mark.parametrize(("page", "line"), _shown_commands())
def test_command_shown_in_docs_exists(page: str, line: str) -> None:
    command, words, path = _resolve(line)
    options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    options |= {"--help", "-h"}
    for word in words:
        if word.startswith("-") and word not in ("-", "--"):
            name = word.split("=", 1)[0]
            assert name in options, f"{page}: `{path}` has no option {name}"
