"""The `/solti` slash grammar: text in, a parsed command or a usage error out.

Pure on purpose: it runs inside the 3-second acknowledgement, so it must never touch Proxmox,
Slack or the disk. Errors name what was wrong and what is allowed, because the person reads
them in an ephemeral reply and should be able to fix the command without reading docs.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from provisioning import Size

__all__ = [
    "VM_VERBS",
    "Audit",
    "Command",
    "Help",
    "KeyRemove",
    "KeySet",
    "KeyShow",
    "Report",
    "TemplateBuild",
    "TemplateDestroy",
    "TemplateList",
    "UsageError",
    "VmAction",
    "VmCreate",
    "VmList",
    "parse",
]

VM_VERBS = ("verify", "start", "stop", "shutdown", "remove")
TOPICS = ("vm", "template", "key", "audit", "report", "help")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_DASHES = ("\u2014", "\u2013")  # Slack turns "--" into an em or en dash as people type.


class UsageError(ValueError):
    """Bad input; ``topic`` picks the help section shown next to the message."""

    def __init__(self, message: str, topic: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.topic = topic


@dataclass(frozen=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True)
class VmCreate:
    template: str | None = None
    vmid: int | None = None
    name: str | None = None
    disk: str | None = None
    cores: int | None = None
    memory: int | None = None
    full: bool = False
    node: str | None = None
    ip: str | None = None
    gw: str | None = None
    dry_run: bool = False

    @property
    def opens_modal(self) -> bool:
        """No template means the person wants the form (DESIGN.md)."""
        return self.template is None


@dataclass(frozen=True)
class VmList:
    mine: bool = False


@dataclass(frozen=True)
class VmAction:
    verb: str
    vmid: int


@dataclass(frozen=True)
class TemplateList:
    pass


@dataclass(frozen=True)
class TemplateBuild:
    distribution: str


@dataclass(frozen=True)
class TemplateDestroy:
    vmid: int


@dataclass(frozen=True)
class KeySet:
    key: str


@dataclass(frozen=True)
class KeyShow:
    pass


@dataclass(frozen=True)
class KeyRemove:
    pass


@dataclass(frozen=True)
class Audit:
    user: str | None = None
    vmid: int | None = None


@dataclass(frozen=True)
class Report:
    pass


Command = (
    Help
    | VmCreate
    | VmList
    | VmAction
    | TemplateList
    | TemplateBuild
    | TemplateDestroy
    | KeySet
    | KeyShow
    | KeyRemove
    | Audit
    | Report
)


@dataclass
class _Spec:
    """Options one verb accepts: value options (name -> kind) and flags."""

    values: dict[str, str] = field(default_factory=dict)
    flags: tuple[str, ...] = ()

    def allowed(self) -> str:
        names = [f"--{n}" for n in self.values] + [f"--{f}" for f in self.flags]
        return ", ".join(names) if names else "no options"


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
    },
    flags=("full", "dry-run"),
)
_AUDIT = _Spec(values={"user": "user", "vmid": "vmid"})
_VM_LIST = _Spec(flags=("mine",))


def _tokens(text: str) -> list[str]:
    for dash in _DASHES:
        text = text.replace(dash, "--")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    text = text.replace("\u2018", "'").replace("\u2019", "'")
    try:
        return shlex.split(text)
    except ValueError:
        raise UsageError("A quote is not closed; close it or remove it.") from None


def _vmid(value: str, option: str, topic: str) -> int:
    if not value.isdigit():
        raise UsageError(
            f"{option} must be a VMID (a whole number, 100 or more), not `{value}`.", topic
        )
    number = int(value)
    if not 100 <= number <= 999_999_999:
        raise UsageError(
            f"{option} `{value}` is out of range; VMIDs run from 100 to 999999999.", topic
        )
    return number


def _convert(kind: str, value: str, option: str, topic: str) -> str | int:
    if kind == "vmid":
        return _vmid(value, option, topic)
    if kind == "count":
        if not value.isdigit() or not 1 <= int(value) <= 512:
            raise UsageError(
                f"{option} must be a whole number from 1 to 512, not `{value}`.", topic
            )
        return int(value)
    if kind == "memory":
        if not value.isdigit() or int(value) < 16:
            raise UsageError(
                f"{option} is memory in MB: a whole number of at least 16, "
                f"e.g. 4096 (not `{value}`).",
                topic,
            )
        return int(value)
    if kind == "size":
        try:
            size = Size(value)
        except ValueError:
            raise UsageError(
                f"{option} `{value}` is not a size; use a number with G (or M, T), e.g. 32G.", topic
            ) from None
        if size.bytes <= 0:
            raise UsageError(f"{option} must be more than 0, e.g. 32G.", topic)
        return str(value).upper()
    if kind == "user":
        match = _MENTION.match(value)
        if match:
            return match.group(1)
        if _USER_ID.match(value):
            return value
        raise UsageError(
            f"{option} needs a Slack mention such as @alice (pick the person from the list), "
            f"not `{value}`.",
            topic,
        )
    return value


def _options(args: list[str], spec: _Spec, topic: str) -> tuple[list[str], dict[str, object]]:
    """Split positional words from options; `--opt value` and `--opt=value` both work."""
    positional: list[str] = []
    found: dict[str, object] = {}
    index = 0
    while index < len(args):
        word = args[index]
        index += 1
        if not word.startswith("--"):
            positional.append(word)
            continue
        name, has_inline, inline = word[2:].partition("=")
        option = f"--{name}"
        if name in spec.flags:
            if has_inline:
                raise UsageError(f"{option} is a flag and takes no value.", topic)
            found[name] = True
            continue
        if name not in spec.values:
            raise UsageError(f"Unknown option `{option}`; allowed: {spec.allowed()}.", topic)
        if has_inline:
            value = inline
        elif index < len(args) and not args[index].startswith("--"):
            value = args[index]
            index += 1
        else:
            value = ""
        if not value:
            raise UsageError(f"{option} needs a value, e.g. {_example(name)}.", topic)
        found[name] = _convert(spec.values[name], value, option, topic)
    return positional, found


def _example(name: str) -> str:
    return {
        "vmid": "--vmid 123",
        "name": "--name web-1",
        "disk": "--disk 50G",
        "cores": "--cores 4",
        "memory": "--memory 4096",
        "node": "--node pve1",
        "ip": "--ip 10.0.0.5/24",
        "gw": "--gw 10.0.0.1",
        "user": "--user @alice",
    }.get(name, f"--{name} VALUE")


def _no_extra(words: list[str], usage: str, topic: str) -> None:
    if words:
        raise UsageError(f"Unexpected `{' '.join(words)}`; usage: `{usage}`.", topic)


def _vm(args: list[str]) -> Command:
    if not args:
        raise UsageError("`vm` needs a verb: create, list, " + ", ".join(VM_VERBS) + ".", "vm")
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
        )
    if verb == "list":
        words, opts = _options(rest, _VM_LIST, "vm")
        _no_extra(words, "vm list [--mine]", "vm")
        return VmList(mine=bool(opts.get("mine", False)))
    if verb in VM_VERBS:
        words, _ = _options(rest, _Spec(), "vm")
        if len(words) != 1:
            raise UsageError(f"`vm {verb}` needs one VMID, e.g. `/solti vm {verb} 512`.", "vm")
        return VmAction(verb=verb, vmid=_vmid(words[0], "VMID", "vm"))
    raise UsageError(
        f"Unknown vm verb `{verb}`; allowed: create, list, " + ", ".join(VM_VERBS) + ".", "vm"
    )


def _template(args: list[str]) -> Command:
    if not args:
        raise UsageError("`template` needs a verb: list, build, destroy.", "template")
    verb, rest = args[0].lower(), args[1:]
    words, _ = _options(rest, _Spec(), "template")
    if verb == "list":
        _no_extra(words, "template list", "template")
        return TemplateList()
    if verb == "build":
        if len(words) != 1:
            raise UsageError(
                "`template build` needs one distribution, e.g. `/solti template build rocky9`.",
                "template",
            )
        return TemplateBuild(distribution=words[0].lower())
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
    """Parse the text after `/solti`; raise UsageError naming the problem and what is allowed."""
    raw = (text or "").strip()
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
    if head == "report":
        _no_extra(rest, "report", "report")
        return Report()
    raise UsageError(
        f"Unknown command `{words[0]}`; allowed: vm, template, key, audit, report, help.", None
    )
