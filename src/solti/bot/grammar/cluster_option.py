"""`--cluster NAME` on any `/solti` verb: taken out of the text before the verb is parsed.

Every verb accepts it (policy ``clusters:``), so it is not part of each verb's options: the
text is split into the cluster asked for and the rest, which the verb grammar parses as
before. Pure, like the rest of the grammar; whether the name is a configured cluster is the
runtime's to say (``Clusters.check_name``), still inside the acknowledgement.
"""

from __future__ import annotations

import re

from solti.bot.grammar.commands import UsageError

__all__ = ["take_cluster"]

# `--cluster lab`, `--cluster=lab`, and the dashes Slack's client makes of "--".
_OPTION = re.compile(r"(?:^|(?<=\s))(?:--|\u2014|\u2013)cluster(?:(?:=|\s+)(?P<value>[^\s-]\S*))?")
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


def take_cluster(text: str) -> tuple[str, str | None]:
    """``(text without --cluster NAME, NAME or None)``; a bad or repeated option is a
    ``UsageError`` saying what a cluster name looks like."""
    if text.lstrip().lower().startswith("key "):
        return text, None  # keys are per person, not per cluster; the key's comment is free text
    found = list(_OPTION.finditer(text))
    if not found:
        return text, None
    if len(found) > 1:
        raise UsageError("--cluster is given twice; name one cluster.", None)
    match = found[0]
    value = match.group("value")
    if not value:
        raise UsageError("--cluster needs a cluster name, e.g. --cluster lab.", None)
    if not _NAME.match(value):
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise UsageError(
            f"--cluster `{shown}` is not a cluster name: lower-case letters, digits and dashes, "
            "e.g. --cluster lab.",
            None,
        )
    rest = (text[: match.start()].rstrip() + " " + text[match.end() :].lstrip()).strip()
    return rest, value
