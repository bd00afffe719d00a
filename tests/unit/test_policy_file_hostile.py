"""Policy files that are hostile or broken: each refused with a sentence naming the file.

Before: an alias bomb was expanded (28 s and 2.4 GB for nine levels) before being refused,
and a file that is not UTF-8 raised a traceback out of `solti bot`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from solti.provisioning import ConfigError, load_policy


def _bomb(levels: int) -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, levels + 1):
        ref = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([ref] * 9)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(_bomb(5))  # 9**5 values once expanded; the real bomb had nine levels
    with pytest.raises(ConfigError) as refused:
        load_policy(policy)
    assert str(policy) in str(refused.value) and "aliases" in str(refused.value)


def test_a_nine_level_bomb_is_refused_too(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(_bomb(9))
    with pytest.raises(ConfigError, match="aliases expand"):
        load_policy(policy)


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("admins: &a [U0ADMIN, *a]\n")
    with pytest.raises(ConfigError, match="refers to the mapping or list"):
        load_policy(policy)


def test_a_few_aliases_are_still_fine(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("admins: &people [U0ADMIN, U0BOB]\napprovers: *people\n")
    assert load_policy(policy).approvers == ["U0ADMIN", "U0BOB"]


def test_a_file_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_bytes(b"admins: [U0ADMIN]\n# caf\xe9\n")
    with pytest.raises(ConfigError) as refused:
        load_policy(policy)
    assert f"{policy}: not UTF-8 text (byte 23, 0xe9)" in str(refused.value)


def test_a_control_character_is_refused_with_a_sentence(tmp_path: Path) -> None:
    """Found by the fuzz run: PyYAML's reader raised before the parser could be asked."""
    policy = tmp_path / "policy.yaml"
    policy.write_bytes(b"\x1c")
    with pytest.raises(ConfigError, match="is not allowed in YAML"):
        load_policy(policy)
