"""The one exception the simulator raises to answer a request with an error.

PVE writes the first line of the message into the HTTP reason phrase (proxmoxer reads it from
there) and the whole message plus the per-parameter ``errors`` map into the JSON body, so an
error carries exactly those three facts and nothing else.
"""

from __future__ import annotations

PARAM_VERIFICATION_FAILED = "Parameter verification failed.\n"


class PveError(Exception):
    """An API error as PVE reports it: status, message (body text), optional errors map."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors

    @property
    def reason(self) -> str:
        """The HTTP reason phrase: PVE cuts the message at the first line break."""
        return self.message.split("\n", 1)[0]

    def body(self) -> dict[str, object]:
        """The JSON body PVE (libpve-http-server >= 5.2) sends with the error."""
        out: dict[str, object] = {"data": None, "message": self.message}
        if self.errors:
            out["errors"] = dict(self.errors)
        return out

    def __repr__(self) -> str:
        return f"PveError({self.status}, {self.message!r}, {self.errors!r})"


def param_error(errors: dict[str, str]) -> PveError:
    """400 with the per-parameter map, as ``raise_param_exc`` / JSONSchema ``validate`` do."""
    return PveError(400, PARAM_VERIFICATION_FAILED, dict(errors))


def not_implemented(method: str, path: str) -> PveError:
    """501 for an unknown path or a method the path does not serve (``rest_handler`` default)."""
    return PveError(501, f"Method '{method} {path}' not implemented")


def server_error(message: str) -> PveError:
    """500 for a plain ``die "text\\n"`` in a handler; PVE messages end with a newline."""
    return PveError(500, message if message.endswith("\n") else message + "\n")


class ProxyError(PveError):
    """pveproxy could not reach the node a request is for: AnyEvent::HTTP's status and reason
    passed through with no body (pve-http-server ``PVE/APIServer/AnyEvent.pm``
    ``proxy_request`` builds the response from the callback's empty body and headers)."""
