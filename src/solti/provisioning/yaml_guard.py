"""Safe YAML from a file a person wrote: bounded alias expansion, errors as ``ConfigError``.

Apart from the policy model because it is about reading untrusted text, not about what the
policy means; ``config.load_policy`` calls it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.reader import Reader

from solti.provisioning.errors import ConfigError

__all__ = ["MAX_YAML_NODES", "parse_guarded_yaml"]

MAX_YAML_NODES = 20_000  # a policy file is a few hundred nodes; aliases may not multiply them

# libyaml's parser when PyYAML was built with it (the wheels are), else None.
_FastLoader: type[Any] | None = getattr(yaml, "CSafeLoader", None)


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_: set[int]) -> int:
    """How many nodes ``node`` stands for once every alias is expanded (memoised by node)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_:
        raise ValueError("an alias refers to the mapping or list that contains it")
    open_.add(key)
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_expanded_size(child, sizes, open_) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        for name, value in node.value:
            total += _expanded_size(name, sizes, open_) + _expanded_size(value, sizes, open_)
    open_.discard(key)
    sizes[key] = total
    return total


def parse_guarded_yaml(text: str, file: Path) -> Any:
    """Safe YAML whose aliases may not expand past ``MAX_YAML_NODES`` (an alias bomb took
    28 s and 2.4 GB before this check). The node graph is composed first, its expanded size
    counted without expanding it, and only then are Python objects built.

    libyaml's parser (``CSafeLoader``, when PyYAML was built with it) composes the graph, with
    PyYAML's own constructor and resolver building the values, so a document means the same
    either way; it is ~3x cheaper than the pure-Python parser. Its error messages are not
    PyYAML's, though, so a text it refuses, or one with a character PyYAML's reader refuses, is
    parsed again by the pure-Python loader, whose error is the one reported: the wording (and
    the line) of every error stays the same whichever parser is installed."""
    if _FastLoader is not None and not Reader.NON_PRINTABLE.search(text):
        try:
            return _parse(_FastLoader, text, file)
        except yaml.YAMLError:
            pass  # reported as the pure-Python parser words it, below
    return _parse(yaml.SafeLoader, text, file)


def _parse(loader_class: type[Any], text: str, file: Path) -> Any:
    """``text`` composed, checked against ``MAX_YAML_NODES`` and constructed by one loader."""
    try:
        loader = loader_class(text)
    except yaml.reader.ReaderError as exc:  # a control character: found before any parsing
        raise ConfigError(
            f"{file}: character {exc.character!r} at position {exc.position} "
            "is not allowed in YAML",
            key="SOLTI_CONFIG",
        ) from None
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:  # the pure-Python composer recurses once per nesting level
            raise ConfigError(f"{file}: nested too deeply", key="SOLTI_CONFIG") from None
        if node is None:
            return None
        try:
            size = _expanded_size(node, {}, set())
        except (ValueError, RecursionError) as exc:
            message = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
            raise ConfigError(f"{file}: {message}", key="SOLTI_CONFIG") from None
        if size > MAX_YAML_NODES:
            raise ConfigError(
                f"{file}: its anchors and aliases expand to more than {MAX_YAML_NODES} "
                "values; write the values out instead",
                key="SOLTI_CONFIG",
            )
        return loader.construct_document(node)
    except yaml.YAMLError as exc:  # includes a control character found later on (ReaderError)
        if loader_class is not yaml.SafeLoader:
            raise
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{file}: not valid YAML{where}", key="SOLTI_CONFIG") from None
    finally:
        loader.dispose()
