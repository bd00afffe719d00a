"""A method's ``permissions``, checked before its handler runs: the one gate of every call.

pve-manager ``PVE/HTTPServer.pm`` ``rest_handler`` calls pve-access-control
``src/PVE/RPCEnvironment.pm`` ``check_api2_permissions`` with the method's ``permissions``
hash (the vendored schema carries it, ``check`` as a JSON array) after resolving the handler
and before running it, for reads and writes alike, on ``$uri_param`` (path, query and body
parameters as sent: a JSON ``true`` is ``1`` in a path, as Perl prints it):

- ``user => 'world'`` passes without a user; no user otherwise is "user != null";
- ``root@pam`` (the simulator's ticket user) passes everything;
- no ``permissions`` at all: "user != root@pam";
- ``user => 'all'`` passes any authenticated caller (the method checks in its own code);
- ``check => [...]`` goes to ``exec_api2_perm_check``; a hash with neither is the bare
  ``raise_perm_exc()``.

``exec_api2_perm_check`` forms: ``['perm', path, privs, any => 1, require_param => p]``
(``check``: the first missing privilege is named; ``check_any``: all of them joined by
``|``), ``['and', ...]`` (each sub-test fatal, so its own message), ``['or', ...]`` (each
sub-test with ``noerr``; none passing is the bare message), ``['userid-group', privs,
groups_param => ...]``, ``['userid-param', 'self' | 'Realm.AllocateUser']`` and
``['perm-modify', path]``. Any other form fails closed (403): the simulator must not let a
call through on a test it does not understand. ``forms_of`` lists the forms of a check, for
the test that walks the schema.

The caller's privileges are the token ACL of ``state/access.py`` (the token's user,
``root@pam``, holds everything, so the privilege-separated token's own ACL decides).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from solti.sandbox.pve import path_catalog
from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.auth import Identity
from solti.sandbox.pve.propstring import perl_str
from solti.sandbox.pve.state.access import Access

ROOT = "root@pam"
# user.cfg of a fresh cluster: the installer's root@pam (pve-access-control AccessControl.pm
# ``userconfig_force_defaults`` adds it even without the file); the simulator's token is
# root's, and nothing creates users or groups.
USERS = frozenset({ROOT})
KNOWN_FORMS = frozenset({"perm", "and", "or", "userid-group", "userid-param", "perm-modify"})
PERM_OPTIONS = frozenset({"any", "require_param"})
USERID_GROUP_OPTIONS = frozenset({"groups_param"})
USERID_PARAM_TESTS = frozenset({"self", "Realm.AllocateUser"})
# pve-access-control src/PVE/Auth/Plugin.pm $user_regex, $realm_regex.
USERNAME_RE = re.compile(r"(?P<user>[^\s:/]+)@(?P<realm>[A-Za-z][A-Za-z0-9.\-_]+)")
ACL_PATH_RE = re.compile(r"[A-Za-z0-9.\-_/]+")


class UnknownCheck(ValueError):
    """A ``check`` form (or option) the gate does not interpret."""


def perm_denied(what: str | None = None) -> PveError:
    """pve-common ``PVE/Exception.pm`` ``raise_perm_exc``."""
    detail = f" ({what})" if what else ""
    return PveError(403, f"Permission check failed{detail}\n")


def no_such_user(userid: str) -> PveError:
    """pve-access-control ``AccessControl.pm`` ``check_user_exist`` (``die``: 500)."""
    return PveError(500, f"no such user ('{userid}')\n")


def user_exists(userid: str) -> bool:
    """``check_user_exist`` against the simulator's user.cfg (``USERS``)."""
    return userid in USERS


def verify_username(userid: Any) -> tuple[str, str]:
    """``Auth/Plugin.pm`` ``verify_username`` without ``noerr``: (user, realm) or a 500."""
    name = "" if userid is None else str(userid)
    if len(name) < 3:
        raise PveError(500, f"user name '{name}' is too short\n")
    if len(name) > 64:
        raise PveError(500, f"user name '{name}' is too long ({len(name)} > 64)\n")
    match = USERNAME_RE.fullmatch(name)
    if match is None:
        raise PveError(500, f"value '{name}' does not look like a valid user name\n")
    return match["user"], match["realm"]


def template_replace(template: str, params: Mapping[str, Any]) -> str:
    """pve-common ``PVE/Tools.pm`` ``template_replace``: ``{name}`` becomes the parameter, or
    ``-`` when it is missing or false in Perl's sense (``''``, ``'0'``)."""

    def fill(match: re.Match[str]) -> str:
        value = params.get(match[1])
        text = "" if value is None else perl_str(value)
        return text if text not in ("", "0") else "-"

    return re.sub(r"\{([^}]+)\}", fill, template)


def normalize_path(path: str) -> str | None:
    """pve-access-control ``AccessControl.pm`` ``normalize_path``."""
    if not path:
        return None
    path = re.sub(r"/+", "/", path)
    path = path.removesuffix("/") or "/"
    if not path.startswith("/"):
        path = "/" + path
    return path if ACL_PATH_RE.fullmatch(path) else None


class Gate:
    """``exec_api2_perm_check`` for one caller: the token (``username``) and its ACL."""

    def __init__(self, access: Access, username: str, params: Mapping[str, Any]) -> None:
        self.access = access
        self.username = username
        self.params = params

    def _held(self, path: str | None) -> set[str]:
        # ``permissions``: an undefined path warns and grants nothing.
        return set() if path is None else set(self.access.permissions_for(path)[path])

    def check(self, path: str | None, privileges: list[str], noerr: bool) -> bool:
        """``RPCEnvironment.pm`` ``check``: every privilege, the first missing one named."""
        held = self._held(path)
        for privilege in privileges:
            if privilege not in held:
                if noerr:
                    return False
                raise perm_denied(f"{path or ''}, {privilege}")
        return True

    def check_any(self, path: str | None, privileges: list[str], noerr: bool) -> bool:
        """``RPCEnvironment.pm`` ``check_any``: one of them, all named on failure."""
        if self._held(path) & set(privileges):
            return True
        if noerr:
            return False
        raise perm_denied(f"{path or ''}, {'|'.join(privileges)}")

    def run(self, check: list[Any], noerr: bool = False) -> bool:
        """One test of ``exec_api2_perm_check``; False only with ``noerr``."""
        test, *rest = check
        if test == "and":
            for sub in rest:
                self.run(sub)  # no noerr: a failing sub-test raises its own message
            return True
        if test == "or":
            if any(self.run(sub, noerr=True) for sub in rest):
                return True
            if noerr:
                return False
            raise perm_denied()
        if test == "perm":
            return self._perm(rest, noerr)
        if test == "userid-group":
            return self._userid_group(rest, noerr)
        if test == "userid-param":
            return self._userid_param(rest, noerr)
        if test == "perm-modify":
            return self._perm_modify(rest, noerr)
        raise UnknownCheck(f"unknown permission test {test!r}")

    def _perm(self, rest: list[Any], noerr: bool) -> bool:
        template, privileges, options = rest[0], rest[1], _options(rest[2:], PERM_OPTIONS)
        required = options.get("require_param")
        if required and self.params.get(required) is None:
            if noerr:
                return False
            raise perm_denied()
        path = normalize_path(template_replace(template, self.params))
        if options.get("any"):
            return self.check_any(path, privileges, noerr)
        return self.check(path, privileges, noerr)

    def _userid_group(self, rest: list[Any], noerr: bool) -> bool:
        """The user must exist (unless ``groups_param => 'create'``), then ``privileges`` on
        ``/access/groups`` or on a group of the user; the simulator has no groups."""
        privileges, options = rest[0], _options(rest[1:], USERID_GROUP_OPTIONS)
        userid = self.params.get("userid")
        existing = options.get("groups_param") != "create"
        if existing and not self._user_exists(userid, noerr):
            return False
        if self.check_any("/access/groups", privileges, noerr=True):
            return True
        if options.get("groups_param"):
            # No group grants anything: the first named group (or the list itself) fails.
            groups = [g for g in re.split(r"[,;\s]+", str(self.params.get("groups") or "")) if g]
            where = f"/access/groups/{groups[0]}" if groups else "/access/groups"
            raise perm_denied(f"{where}, {'|'.join(privileges)}")
        if existing:
            if noerr:
                return False
            raise perm_denied()
        return True

    def _userid_param(self, rest: list[Any], noerr: bool) -> bool:
        userid = self.params.get("userid")
        _, realm = verify_username(userid)
        if not rest or rest[0] not in USERID_PARAM_TESTS:
            raise UnknownCheck(f"unknown userid-param test {rest[:1]!r}")
        if rest[0] == "self":
            if not self._user_exists(str(userid), noerr):
                return False
            if self.username == userid:
                return True  # never for a token: its username is the token id
            if noerr:
                return False
            raise perm_denied()
        return self.check(f"/access/realm/{realm}", ["Realm.AllocateUser"], noerr)

    def _perm_modify(self, rest: list[Any], noerr: bool) -> bool:
        """``check_perm_modify``: Permissions.Modify, or the object's allocate privilege."""
        path = normalize_path(template_replace(rest[0], self.params))
        if path is None:
            return False
        wanted = ["Permissions.Modify"]
        for prefix, privilege in (
            ("/storage/", "Datastore.Allocate"),
            ("/vms/", "VM.Allocate"),
            ("/pool/", "Pool.Allocate"),
        ):
            if path.startswith(prefix) and len(path) > len(prefix):
                wanted.append(privilege)
                break
        return self.check_any(path, wanted, noerr)

    def _user_exists(self, userid: Any, noerr: bool) -> bool:
        """``check_user_exist``: ``verify_username`` (with ``noerr``), then user.cfg."""
        name = "" if userid is None else str(userid)
        try:
            verify_username(name)
        except PveError:
            if noerr:
                return False
            raise
        if user_exists(name):
            return True
        if noerr:
            return False
        raise no_such_user(name)


def _options(pairs: list[Any], allowed: frozenset[str]) -> dict[str, Any]:
    """The ``key => value`` tail of a test (a flat list in the JSON schema)."""
    if len(pairs) % 2:
        raise UnknownCheck(f"odd option list {pairs!r}")
    options = dict(zip(pairs[::2], pairs[1::2], strict=True))
    unknown = set(options) - allowed
    if unknown:
        raise UnknownCheck(f"unknown option {sorted(unknown)[0]!r}")
    return options


def check_api2_permissions(
    permissions: Mapping[str, Any] | None,
    identity: Identity | None,
    access: Access,
    params: Mapping[str, Any],
) -> None:
    """``RPCEnvironment.pm`` ``check_api2_permissions``: return, or raise PVE's error."""
    if permissions is not None and permissions.get("user") == "world":
        return
    if identity is None:
        raise perm_denied("user != null")
    username = identity.task_user
    if username == ROOT:
        return
    if permissions is None:
        raise perm_denied("user != root@pam")
    if permissions.get("user") == "all":
        return
    check = permissions.get("check")
    if not check:
        raise perm_denied()
    try:
        Gate(access, username, params).run(list(check))
    except (UnknownCheck, IndexError, TypeError) as exc:
        raise perm_denied(f"unsupported permission check {check!r}: {exc}") from exc


def method_permissions(method: str, template: str) -> Mapping[str, Any] | None:
    """The schema's ``permissions`` of ``method template`` (None when it declares none)."""
    return path_catalog.endpoints().get(template, {}).get(method, {}).get("permissions")


def forms_of(check: list[Any]) -> set[str]:
    """Every test name used in ``check`` (``and``/``or`` recurse); UnknownCheck for a form,
    option or ``userid-param`` test the gate does not interpret."""
    test = check[0] if check else None
    if test not in KNOWN_FORMS:
        raise UnknownCheck(f"unknown permission test {test!r}")
    if test in ("and", "or"):
        found = {test}
        for sub in check[1:]:
            found |= forms_of(sub)
        return found
    if test == "perm":
        if len(check) < 3 or not isinstance(check[2], list):
            raise UnknownCheck(f"perm test without privileges: {check!r}")
        return {"perm-any" if _options(check[3:], PERM_OPTIONS).get("any") else "perm"}
    if test == "userid-group":
        _options(check[2:], USERID_GROUP_OPTIONS)
    if test == "userid-param" and (len(check) < 2 or check[1] not in USERID_PARAM_TESTS):
        raise UnknownCheck(f"unknown userid-param test {check[1:]!r}")
    return {test}


def token_call(identity: Identity | None) -> bool:
    """Whether the caller's privileges are the token ACL's: an in-code ``$rpcenv->check``
    (a filter of list results, a field shown only to auditors) grants root@pam everything."""
    return bool(identity and identity.tokenid)
