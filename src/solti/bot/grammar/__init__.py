"""The `/solti` slash grammar: text in, a parsed command or a usage error out.

Pure on purpose: it runs inside the 3-second acknowledgement, so it must never touch Proxmox,
Slack or the disk. Errors name what was wrong and what is allowed, because the person reads
them in an ephemeral reply and should be able to fix the command without reading docs.

``commands`` holds the parsed forms, ``options`` the tokenizer and option checks; the verbs
(what each of vm, template, key, audit, report accepts) are here.
"""

from __future__ import annotations

from solti.bot.grammar import commands
from solti.bot.grammar.commands import (
    TOPICS,
    VM_VERBS,
    Audit,
    Command,
    Help,
    KeyRemove,
    KeySet,
    KeyShow,
    Quota,
    Report,
    TemplateBuild,
    TemplateDestroy,
    TemplateList,
    UsageError,
    VmAction,
    VmCreate,
    VmGive,
    VmList,
    VmRebuild,
)
from solti.bot.grammar.commands import (
    VmExtend as VmExtend,  # re-exported: `grammar.VmExtend` in the listeners
)
from solti.bot.grammar.lease_grammar import lease_option, vm_extend
from solti.bot.grammar.options import _convert, _no_extra, _options, _Spec, _tokens, _vmid
from solti.bot.grammar.snapshot_grammar import (
    SnapshotCreate as SnapshotCreate,  # re-exported: `grammar.SnapshotCreate` in the listeners
)
from solti.bot.grammar.snapshot_grammar import (
    SnapshotDelete as SnapshotDelete,
)
from solti.bot.grammar.snapshot_grammar import (
    SnapshotList as SnapshotList,
)
from solti.bot.grammar.snapshot_grammar import (
    SnapshotRollback as SnapshotRollback,
)
from solti.bot.grammar.snapshot_grammar import snapshot_command
from solti.bot.grammar.unescape import unescape

# The parsed forms are part of the grammar's public face, so both lists travel together.
__all__ = [*commands.__all__, "parse"]

_CREATE = _Spec(
    values={
        "vmid": "vmid",
        "name": "text",
        "disk": "size",
        "cores": "count",
        "memory": "memory",
        "node": "text",
        "ip": "text",
        "gw": "text",
        "size": "text",
        "lease": "text",
        "count": "howmany",
    },
    flags=("full", "dry-run"),
)
_AUDIT = _Spec(values={"user": "user", "vmid": "vmid"})
_VM_LIST = _Spec(values={"page": "page"}, flags=("mine",))


def _vm(args: list[str]) -> Command:
    if not args:
        raise UsageError(
            "`vm` needs a verb: create, list, give, extend, rebuild, " + ", ".join(VM_VERBS) + ".",
            "vm",
        )
    verb, rest = args[0].lower(), args[1:]
    if verb == "create":
        words, opts = _options(rest, _CREATE, "vm")
        if len(words) > 1:
            raise UsageError(
                f"`vm create` takes one template, got `{' '.join(words)}`; "
                "options start with --, e.g. --disk 50G.",
                "vm",
            )
        if "gw" in opts and "ip" not in opts:
            raise UsageError(
                "--gw needs a static address too: --ip 10.0.0.5/24 --gw 10.0.0.1.", "vm"
            )
        return VmCreate(
            template=words[0] if words else None,
            vmid=opts.get("vmid"),  # type: ignore[arg-type]
            name=opts.get("name"),  # type: ignore[arg-type]
            disk=opts.get("disk"),  # type: ignore[arg-type]
            cores=opts.get("cores"),  # type: ignore[arg-type]
            memory=opts.get("memory"),  # type: ignore[arg-type]
            full=bool(opts.get("full", False)),
            node=opts.get("node"),  # type: ignore[arg-type]
            ip=opts.get("ip"),  # type: ignore[arg-type]
            gw=opts.get("gw"),  # type: ignore[arg-type]
            dry_run=bool(opts.get("dry-run", False)),
            size=opts.get("size"),  # type: ignore[arg-type]
            lease=lease_option(opts.get("lease")),
            count=opts.get("count"),  # type: ignore[arg-type]
        )
    if verb == "list":
        words, opts = _options(rest, _VM_LIST, "vm")
        _no_extra(words, "vm list [--mine] [--page N]", "vm")
        page = opts.get("page", 1)
        return VmList(mine=bool(opts.get("mine", False)), page=page)  # type: ignore[arg-type]
    if verb == "give":
        words, _ = _options(rest, _Spec(), "vm")
        if len(words) != 2:
            raise UsageError(
                "`vm give` needs a VMID and a person, e.g. `/solti vm give 512 @bob`.", "vm"
            )
        user = _convert("user", words[1], "vm give", "vm")
        return VmGive(vmid=_vmid(words[0], "VMID", "vm"), user=user)  # type: ignore[arg-type]
    if verb == "extend":
        words, _ = _options(rest, _Spec(), "vm")
        return vm_extend(words)
    if verb == "rebuild":
        words, _ = _options(rest, _Spec(), "vm")
        if len(words) not in (1, 2):
            raise UsageError(
                "`vm rebuild` needs one VMID and at most one template, "
                "e.g. `/solti vm rebuild 512` or `/solti vm rebuild 512 rocky9`.",
                "vm",
            )
        template = words[1] if len(words) == 2 else None
        return VmRebuild(vmid=_vmid(words[0], "VMID", "vm"), template=template)
    if verb in VM_VERBS:
        words, _ = _options(rest, _Spec(), "vm")
        if len(words) != 1:
            raise UsageError(f"`vm {verb}` needs one VMID, e.g. `/solti vm {verb} 512`.", "vm")
        return VmAction(verb=verb, vmid=_vmid(words[0], "VMID", "vm"))
    raise UsageError(
        f"Unknown vm verb `{verb}`; allowed: create, list, give, extend, rebuild, "
        + ", ".join(VM_VERBS)
        + ".",
        "vm",
    )


def _template(args: list[str]) -> Command:
    if not args:
        raise UsageError("`template` needs a verb: list, build, destroy.", "template")
    verb, rest = args[0].lower(), args[1:]
    spec = _Spec(flags=("all-nodes",)) if verb == "build" else _Spec()
    words, opts = _options(rest, spec, "template")
    if verb == "list":
        _no_extra(words, "template list", "template")
        return TemplateList()
    if verb == "build":
        if len(words) != 1:
            raise UsageError(
                "`template build` needs one distribution, e.g. `/solti template build rocky9`.",
                "template",
            )
        return TemplateBuild(
            distribution=words[0].lower(), all_nodes=bool(opts.get("all-nodes", False))
        )
    if verb == "destroy":
        if len(words) != 1:
            raise UsageError(
                "`template destroy` needs one template VMID, e.g. `/solti template destroy 9001`.",
                "template",
            )
        return TemplateDestroy(vmid=_vmid(words[0], "VMID", "template"))
    raise UsageError(f"Unknown template verb `{verb}`; allowed: list, build, destroy.", "template")


def _key(args: list[str], raw: str) -> Command:
    if not args:
        raise UsageError("`key` needs a verb: set, show, remove.", "key")
    verb = args[0].lower()
    if verb == "set":
        # The key is taken verbatim from the raw text: its comment may hold spaces or quotes.
        key = raw.split(None, 2)[2].strip() if len(raw.split(None, 2)) > 2 else ""
        if not key:
            raise UsageError(
                "`key set` needs your public key, "
                "e.g. `/solti key set ssh-ed25519 AAAA... you@host`.",
                "key",
            )
        return KeySet(key=key)
    if verb in ("show", "remove"):
        _no_extra(args[1:], f"key {verb}", "key")
        return KeyShow() if verb == "show" else KeyRemove()
    raise UsageError(f"Unknown key verb `{verb}`; allowed: set, show, remove.", "key")


def parse(text: str) -> Command:
    """Parse the text after `/solti`; raise UsageError naming the problem and what is allowed.

    ``text`` is as Slack sends it (escaped, see ``unescape``) or as typed; both parse alike.
    """
    raw = unescape(text or "").strip()
    if raw.lower().startswith("key "):
        return _key(raw.split()[1:2], raw)
    words = _tokens(raw)
    if not words:
        return Help()
    head, rest = words[0].lower(), words[1:]
    if head in ("help", "-h", "--help", "?"):
        topic = rest[0].lower() if rest else None
        return Help(topic=topic if topic in TOPICS else None)
    if head == "vm":
        return _vm(rest)
    if head == "template":
        return _template(rest)
    if head == "key":
        return _key(rest, raw)
    if head == "audit":
        positional, opts = _options(rest, _AUDIT, "audit")
        _no_extra(positional, "audit [--user @someone] [--vmid N]", "audit")
        return Audit(user=opts.get("user"), vmid=opts.get("vmid"))  # type: ignore[arg-type]
    if head == "quota":
        if len(rest) > 1:
            _no_extra(rest[1:], "quota [@someone]", "quota")
        user = _convert("user", rest[0], "quota", "quota") if rest else None
        return Quota(user=user)  # type: ignore[arg-type]
    if head == "report":
        _no_extra(rest, "report", "report")
        return Report()
    if head == "snapshot":
        return snapshot_command(rest)
    raise UsageError(
        f"Unknown command `{words[0]}`; allowed: vm, template, key, audit, quota, report, "
        "snapshot, help.",
        None,
    )
