"""What people read after a restart: the final state of an interrupted operation's message.

Pure: a remembered message (``bot.recovery_book``) and what reconcile found and did (a
``Finding``) or the operation's audit record become a Block Kit message and a thread note.
Built from the finding's fields (step, VMID, the decision), never by parsing its text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from solti.bot.blocks.elements import clip, context, escape, mention, message, section
from solti.bot.recovery_book import PostedMessage

if TYPE_CHECKING:
    from solti.provisioning.reconciliation import Finding

__all__ = ["final_sentence", "finding_message", "record_message", "thread_note"]

AGAIN = "Run the command again."
CLOSED_PREFIXES = ("closed by reconcile: ", "finished by reconcile: ")


def final_sentence(finding: Finding) -> tuple[bool, str]:
    """(succeeded, the sentence) for an interrupted operation reconcile has closed."""
    decision = finding.decision
    step = finding.step or "start"
    head = f"interrupted by a restart at step {step}"
    vmid = finding.vmid
    if decision is None:
        return False, f"{head}. {AGAIN}"
    if decision.result == "ok":
        if finding.action == "vm create":
            return True, (
                f"every step had completed before a restart; VM {vmid} is ready "
                "(`/solti vm list` shows it)."
            )
        what = decision.text
        for prefix in CLOSED_PREFIXES:
            what = what.removeprefix(prefix)
        return True, f"finished after a restart: {what}."
    if decision.remove:
        half = "half-built VM" if finding.action == "template build" else "half-made VM"
        return False, f"{head}; the {half} {vmid} was removed. {AGAIN}"
    if decision.person and vmid is not None and "keep_on_failure" in decision.text:
        return False, (
            f"{head}; the half-made VM {vmid} was kept, as asked (keep on failure). "
            f"Look at it, then `/solti vm remove {vmid}`."
        )
    _, _, rest = decision.text.partition("; ")
    return False, f"{head}; {rest}. {AGAIN}" if rest else f"{head}. {AGAIN}"


def _final(posted: PostedMessage, ok: bool, sentence: str) -> dict[str, Any]:
    icon = ":white_check_mark:" if ok else ":x:"
    who = f" for {mention(posted.requester)}" if posted.requester else ""
    title = escape(posted.title)
    text = f"{icon} *{title}*{who}: {escape(clip(sentence, 1500))}"
    blocks = [section(text), context(f"Request `{escape(posted.request_id)}`")]
    return message(f"{title}: {escape(clip(sentence, 1500))}", blocks)


def finding_message(posted: PostedMessage, finding: Finding) -> tuple[dict[str, Any], str]:
    """The edited message and the thread note for an operation reconcile has just closed."""
    ok, sentence = final_sentence(finding)
    return _final(posted, ok, sentence), sentence


def record_message(posted: PostedMessage, record: Any) -> tuple[dict[str, Any], str]:
    """The same for a message its dead poster left open, from the audit record (None: the
    operation never wrote one, so nothing was made)."""
    if record is None:
        sentence = f"interrupted by a restart before it changed anything; nothing was made. {AGAIN}"
        return _final(posted, False, sentence), sentence
    if record.result == "ok":
        target = f"VM {record.vmid}" if record.vmid is not None else "it"
        sentence = f"it had finished before a restart; {target} is ready."
        return _final(posted, True, sentence), sentence
    error = (record.error or record.result).rstrip(".")
    sentence = f"it ended `{record.result}` while the bot restarted: {error}. {AGAIN}"
    return _final(posted, False, sentence), sentence


def thread_note(posted: PostedMessage, sentence: str) -> dict[str, Any]:
    """The notice in the message's thread, mentioning the requester so they are told."""
    who = f"{mention(posted.requester)} " if posted.requester else ""
    text = f"{who}Solti restarted while this was running: {escape(clip(sentence, 1500))}"
    return message(text, [section(text)])
