"""The policy file's YAML reads the same through libyaml's parser as through PyYAML's own.

`yaml_guard` composes with libyaml (`CSafeLoader`) when PyYAML has it, for start-up cost, and
falls back to the pure-Python loader for the wording of every error. Each text below is parsed
both ways; the values, or the error sentences, must be equal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from solti.provisioning import yaml_guard
from solti.provisioning.errors import ConfigError

FILE = Path("/etc/solti/policy.yaml")

TEXTS = [
    "",
    "# only a comment\n",
    "admins: [U0ADMIN, U0BOB]\nquotas:\n  default_max_vms: 3\n",
    "admins: &people [U0ADMIN]\napprovers: *people\n",
    "lease: {default: 7d, max: 30d}\nflag: yes\nnothing: ~\nwhen: 2026-12-03\nn: 0o17\n",
    "text: |\n  two\n  lines\nfolded: >\n  one\n  line\n",
    "a: [",  # not valid YAML at line 2
    "a: b\n c: d\n",  # bad indentation
    "a: *nowhere\n",  # undefined alias
    "a: 1\n---\nb: 2\n",  # two documents
    "\x1c",  # a control character the reader refuses
    "a: b\x85c\n",  # NEL: printable to both
    "a: 'tab\there'\n",
    "key: [1, 2\n",
    "admins: &a [U0ADMIN, *a]\n",  # an alias inside itself
    "admins: " + "[" * 200 + "]" * 200 + "\n",
    "admins: " + "[" * 600 + "]" * 600 + "\n",  # deeper than the pure composer can recurse
    "admins: " + "[" * 5000 + "]" * 5000 + "\n",  # deeper than libyaml allows
    "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 6)),
]


def _outcome(text: str) -> tuple[str, Any]:
    try:
        return "value", yaml_guard.parse_guarded_yaml(text, FILE)
    except ConfigError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_both_parsers_give_the_same_values_and_the_same_errors(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _outcome(text)
    monkeypatch.setattr(yaml_guard, "_FastLoader", None)
    assert fast == _outcome(text)


def test_the_fast_parser_is_the_one_used_when_pyyaml_has_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert yaml.__with_libyaml__, "the wheels ship libyaml; this checkout's PyYAML lacks it"
    used: list[str] = []

    class Spy(yaml.CSafeLoader):  # type: ignore[name-defined,misc]
        def get_single_node(self) -> Any:
            used.append("libyaml")
            return super().get_single_node()

    monkeypatch.setattr(yaml_guard, "_FastLoader", Spy)
    assert yaml_guard.parse_guarded_yaml("admins: [U0ADMIN]\n", FILE) == {"admins": ["U0ADMIN"]}
    assert used == ["libyaml"]


def test_errors_never_escape_as_anything_but_a_sentence() -> None:
    """Too deep for the pure composer used to raise RecursionError out of `load_policy`."""
    with pytest.raises(ConfigError, match="nested too deeply"):
        yaml_guard.parse_guarded_yaml("a: " + "[" * 5000 + "]" * 5000, FILE)
