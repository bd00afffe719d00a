"""``Clusters``: one ``Provisioner`` per Proxmox VE cluster, by name, built on first use.

The cluster of the ``PROXMOX_*`` variables is ``default``; the policy's ``clusters:`` names the
others (``cluster_policy.ClusterEntry``). Every provisioner shares one audit file, each through
its own ``AuditLog.scoped(name)`` view, so records, owners and leases carry their cluster and
VMIDs are per cluster. A cluster's token secret is read from the environment variable its entry
names when its provisioner is first built, never earlier, and never shown: a missing variable
is named, not its value.

Which cluster a command uses: the one it names (``--cluster``), else the channel's route
(``channels:`` of an entry), else ``default`` (``resolve``). Lists over every cluster ask each
one on its own (``each``): one cluster that does not answer never hides the others.

Which clusters a list or a sweep covers (``span``): the one named, every one for ``all``, the
channel's route, else every cluster. The CLI (``cli.cluster_lists``) and the bot
(``bot.every_cluster``) both use ``span``, ``each``/``each_named``, ``split`` and
``unanswered_reason``, and only word the result their own way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import SecretStr

from solti.provisioning.cluster_policy import DEFAULT_CLUSTER, ClusterEntry
from solti.provisioning.errors import ConfigError, InvalidRequest

if TYPE_CHECKING:
    from solti.provisioning.audit_log import AuditLog
    from solti.provisioning.config import Policy, ProxmoxSettings
    from solti.provisioning.service import Provisioner

__all__ = [
    "ALL_CLUSTERS", "DEFAULT_CLUSTER", "ClusterAnswer", "ClusterConnection", "Clusters",
    "connection_of", "secret_variables", "split", "unanswered_line", "unanswered_reason",
]  # fmt: skip

# `--cluster all`: every configured cluster (lists, sweeps); no cluster may take this name.
ALL_CLUSTERS = "all"

T = TypeVar("T")


@dataclass(frozen=True)
class ClusterConnection:
    """What ``PveClient.from_settings`` reads, for a cluster of the policy (the secret stays a
    ``SecretStr``: its ``repr`` and ``str`` show stars)."""

    url: str
    token_id: str
    token_secret: SecretStr
    verify_ssl: bool = True
    ca_bundle: Path | None = None


def secret_variables(environ: Mapping[str, str]) -> Mapping[str, str]:
    """The variables a cluster's secret is read from: the environment, and the `.env` file and
    secrets directory when there are any (read then only: pydantic-settings loads ~50 ms)."""
    from solti.provisioning.config import DEFAULT_SECRETS_DIR, FILE_SOURCE_VARIABLES

    if any(environ.get(name) for name in FILE_SOURCE_VARIABLES) or DEFAULT_SECRETS_DIR.is_dir():
        from solti.provisioning.settings_sources import environment_with_files

        return environment_with_files(environ)
    return environ


def connection_of(name: str, entry: ClusterEntry, environ: Mapping[str, str]) -> ClusterConnection:
    """The connection of cluster ``name``; its secret from the variable the entry names."""
    secret = (environ.get(entry.token_secret_env) or "").strip()
    if not secret:
        raise ConfigError(
            f"cluster {name!r}: the environment variable {entry.token_secret_env} (its "
            "token_secret_env) is not set; export the API token secret in it",
            key=f"clusters.{name}.token_secret_env",
        )
    from solti.telemetry.redaction import add_secret

    add_secret(secret)  # scrubbed from every log line from now on
    return ClusterConnection(
        url=entry.url,
        token_id=entry.token_id,
        token_secret=SecretStr(secret),
        verify_ssl=entry.verify_ssl,
        ca_bundle=entry.ca_bundle,
    )


@dataclass(frozen=True)
class ClusterAnswer:
    """One cluster's part of a list over every cluster: ``value``, or why it has none."""

    cluster: str
    value: Any = None
    error: BaseException | None = None

    @property
    def answered(self) -> bool:
        return self.error is None


def split(answers: list[ClusterAnswer]) -> tuple[list[ClusterAnswer], list[ClusterAnswer]]:
    """``(answered, unanswered)``, each in the clusters' order."""
    return [a for a in answers if a.error is None], [a for a in answers if a.error is not None]


def unanswered_reason(cluster: str, error: BaseException) -> str:
    """Why ``cluster`` gave no answer, in one line: the error's own sentence (never a secret:
    the clients' messages name URLs and variables, not values), with the policy key of this
    cluster's URL where the client names ``PROXMOX_URL``."""
    text = " ".join(str(error).split()) or type(error).__name__
    if cluster != DEFAULT_CLUSTER:
        text = text.replace("PROXMOX_URL", f"clusters.{cluster}.url")
    return text


def unanswered_line(cluster: str, error: BaseException) -> str:
    """``cluster lab did not answer: ...`` (the CLI's line under the others' rows)."""
    return f"cluster {cluster} did not answer: {unanswered_reason(cluster, error)}"


class Clusters:
    """The registry: cluster name -> ``Provisioner``, built once, on first use, thread-safe."""

    def __init__(
        self,
        builders: Mapping[str, Callable[[], Provisioner]],
        routes: Mapping[str, str] | None = None,
    ) -> None:
        self._builders = dict(builders)
        self.routes = dict(routes or {})  # channel id -> cluster name
        self._built: dict[str, Provisioner] = {}
        self._lock = threading.Lock()

    @classmethod
    def single(cls, provisioner: Any) -> Clusters:
        """Only the ``default`` cluster, an existing provisioner (tests, the sandbox)."""
        registry = cls({DEFAULT_CLUSTER: lambda: provisioner})
        registry._built[DEFAULT_CLUSTER] = provisioner
        return registry

    @classmethod
    def from_settings(
        cls,
        default: ProxmoxSettings | Callable[[], ProxmoxSettings] | None,
        policy: Policy,
        db_path: str | Path,
        environ: Mapping[str, str] | Callable[[], Mapping[str, str]],
        *,
        audit: AuditLog | None = None,
        default_provisioner: Provisioner | None = None,
    ) -> Clusters:
        """``default`` from ``PROXMOX_*`` (settings, or a function reading them when first
        needed, so a command on another cluster needs none), one per policy entry."""
        from solti.provisioning.audit_log import AuditLog
        from solti.provisioning.service import Provisioner

        # Opened now (its migrations run at start-up, as before clusters); the Proxmox
        # clients and the secrets wait for first use.
        base = audit if audit is not None else AuditLog(db_path)

        def log_for(name: str) -> AuditLog:
            return base.scoped(name)

        def build_default() -> Provisioner:
            if default_provisioner is not None:
                return default_provisioner
            if default is None:
                raise ConfigError(
                    "cluster 'default' needs PROXMOX_URL, PROXMOX_TOKEN_ID and "
                    "PROXMOX_TOKEN_SECRET",
                    key="PROXMOX_URL",
                )
            settings = default() if callable(default) else default
            return Provisioner.from_settings(
                settings, policy, db_path, audit=log_for(DEFAULT_CLUSTER)
            )

        def builder(name: str, entry: ClusterEntry) -> Callable[[], Provisioner]:
            def build() -> Provisioner:
                variables = environ() if callable(environ) else environ
                connection = connection_of(name, entry, variables)
                return Provisioner.from_settings(
                    connection,  # type: ignore[arg-type]  # the fields PveClient reads
                    policy,
                    db_path,
                    audit=log_for(name),
                )

            return build

        builders: dict[str, Callable[[], Provisioner]] = {DEFAULT_CLUSTER: build_default}
        routes: dict[str, str] = {}
        for name, entry in policy.clusters.items():
            builders[name] = builder(name, entry)
            routes.update(dict.fromkeys(entry.channels, name))
        registry = cls(builders, routes)
        if default_provisioner is not None:
            registry._built[DEFAULT_CLUSTER] = default_provisioner
        return registry

    # --- names ----------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        """``default`` first, then the policy's clusters in the file's order."""
        return list(self._builders)

    @property
    def many(self) -> bool:
        return len(self._builders) > 1

    def check_name(self, name: str) -> str:
        """``name`` if it is a known cluster, else ``InvalidRequest`` naming the known ones."""
        if name not in self._builders:
            raise InvalidRequest(
                f"unknown cluster {name!r}; known: {', '.join(self.names)}", field="cluster"
            )
        return name

    def route(self, channel: str | None) -> str | None:
        """The cluster a channel is routed to (policy ``clusters.NAME.channels``), if any."""
        return self.routes.get(channel) if channel else None

    def span(self, explicit: str | None = None, channel: str | None = None) -> list[str]:
        """The clusters a list or a sweep covers: ``all`` -> every one; a name -> that one;
        else the channel's route; else every cluster (with one configured: ``default``)."""
        if explicit == ALL_CLUSTERS:
            return self.names
        if explicit:
            return [self.check_name(explicit)]
        routed = self.route(channel)
        return [routed] if routed else self.names

    def resolve(self, explicit: str | None = None, channel: str | None = None) -> str:
        """The cluster a command uses: the one it names, else its channel's, else default."""
        if explicit:
            return self.check_name(explicit)
        return self.route(channel) or DEFAULT_CLUSTER

    # --- provisioners -----------------------------------------------------------------------

    def get(self, name: str = DEFAULT_CLUSTER) -> Provisioner:
        """The provisioner of ``name``, built on first use (the secret is read then)."""
        self.check_name(name)
        with self._lock:
            found = self._built.get(name)
            if found is None:
                found = self._builders[name]()
                self._built[name] = found
            return found

    def built(self) -> Iterator[tuple[str, Provisioner]]:
        """The provisioners built so far (to close or inspect; builds none)."""
        with self._lock:
            yield from list(self._built.items())

    def each(
        self, ask: Callable[[Provisioner], T], names: list[str] | None = None
    ) -> list[ClusterAnswer]:
        """``ask`` every cluster (or ``names``) at once; each answer, or the error it raised.

        In parallel, so a cluster that times out costs its own timeout, not the others' too;
        a failure (unreachable, refused token, missing secret) is that cluster's answer only.
        """
        return self.each_named(lambda name: ask(self.get(name)), names)

    def each_named(
        self, ask: Callable[[str], T], names: list[str] | None = None
    ) -> list[ClusterAnswer]:
        """``each``, for work that needs the cluster's name rather than its provisioner (the
        bot runs it inside ``runtime.on_cluster(name)``)."""
        chosen = names or self.names

        def one(name: str) -> ClusterAnswer:
            try:
                return ClusterAnswer(name, ask(name))
            except Exception as exc:
                return ClusterAnswer(name, error=exc)

        if len(chosen) == 1:
            return [one(chosen[0])]
        with ThreadPoolExecutor(min(8, len(chosen)), thread_name_prefix="solti-clusters") as pool:
            return list(pool.map(one, chosen))
