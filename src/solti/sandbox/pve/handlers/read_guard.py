"""The ``permissions.check`` of a read handler, applied before it runs (API tokens only).

pve-access-control ``src/PVE/RPCEnvironment.pm`` ``exec_api2_perm_check``: ``['perm', path,
privs]`` needs every privilege (``check``: "Permission check failed (<path>, <priv>)" for the
first one missing), with ``any => 1`` one of them (``check_any``: "<path>, <a>|<b>");
``['or', ...]`` passes when one alternative does, else "Permission check failed" without
detail. As ``http.py`` does for modelled routes, only token calls are checked (the
simulator's ticket user is root@pam).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.state.access import Access


@dataclass(frozen=True)
class Perm:
    """``['perm', path, privileges, any => any_of]``; ``path`` may name ``{node}``."""

    path: str
    privileges: tuple[str, ...]
    any_of: bool = False

    def missing(self, access: Access, params: dict[str, Any]) -> str | None:
        """The detail of the failed check, or None when it passes."""
        path = self.path.format(**params)
        held = [p for p in self.privileges if access.has(path, p)]
        if self.any_of:
            return None if held else f"{path}, {'|'.join(self.privileges)}"
        for privilege in self.privileges:
            if privilege not in held:
                return f"{path}, {privilege}"
        return None


def node(*privileges: str) -> Perm:
    return Perm("/nodes/{node}", privileges)


def root(*privileges: str, any_of: bool = False) -> Perm:
    return Perm("/", privileges, any_of)


def guarded(handler: Handler, *alternatives: Perm) -> Handler:
    """``handler`` behind the check: one ``Perm``, or several as ``['or', ...]``."""

    def checked(call: Call) -> Any:
        if call.identity and call.identity.tokenid:
            with call.cluster() as cluster:
                failures = [alt.missing(cluster.access, call.params) for alt in alternatives]
            if all(failures):
                detail = failures[0] if len(alternatives) == 1 else None
                message = (
                    f"Permission check failed ({detail})" if detail else ("Permission check failed")
                )
                raise PveError(403, message)
        return handler(call)

    checked.__doc__ = handler.__doc__
    return checked
