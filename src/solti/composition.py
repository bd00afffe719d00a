"""The composition root: settings + policy -> Provisioner -> bot Runtime -> Bolt app ->
scheduler -> server.

Everything that builds the product out of its parts lives here, once. `solti bot`
(``bot_command``), the WSGI app factory (``solti.bot.wsgi:create_app``), the sandbox console
and the tests' fixtures all call these functions; no other module builds a ``Runtime``, a
Bolt app or a server. Read it top to bottom to see the whole house wired:

1. ``load_configuration``: the Slack settings, the Proxmox settings and the policy file, every
   bad setting named at once (``ConfigurationError.problems``).
2. ``build_provisioner`` / ``build_clusters``: the provisioning façade over the Proxmox API and
   the audit log, one per cluster (``default`` from ``PROXMOX_*``, then policy ``clusters:``).
3. ``build_bot``: the bot's ``Runtime`` (stores, Slack client, the pools after the ack), the
   Bolt app around it, and its ``BotScheduler`` (report cron, approval sweep).
4. ``HttpService`` / ``SocketModeService``: the bot behind its listeners (waitress), with
   ``/metrics`` beside Slack's route or on a port of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from solti import telemetry
from solti.bot.app import create_app
from solti.bot.approvals import ApprovalStore
from solti.bot.db import BotDatabase
from solti.bot.directory import Directory
from solti.bot.keys import KeyStore
from solti.bot.policy import rules_from_policy
from solti.bot.runtime import Runtime
from solti.bot.scheduler import BotScheduler
from solti.bot.serving import (
    SocketModeRunner,
    WsgiApp,
    WsgiListener,
    make_route_table,
    make_wsgi_app,
)
from solti.bot.settings import BotSettings, SettingsError, load_settings
from solti.provisioning import Clusters, ConfigError, Provisioner, ProxmoxSettings, load_policy
from solti.provisioning.config import Policy, check_database_path
from solti.provisioning.settings_sources import environment_with_files

__all__ = [
    "Bot",
    "Configuration",
    "ConfigurationError",
    "HttpService",
    "SocketModeService",
    "build_bot",
    "build_clusters",
    "build_provisioner",
    "load_configuration",
]

METRICS_PORT_VARIABLE = "SOLTI_METRICS_PORT"


class ConfigurationError(Exception):
    """One or more settings are wrong; ``problems`` names each (``VARIABLE: what is wrong``)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Configuration:
    """Everything the bot reads at start-up, checked."""

    settings: BotSettings
    proxmox: ProxmoxSettings
    policy: Policy
    metrics_port: int | None = None  # None: /metrics beside /slack/events on the same port
    # The variables as the settings see them (files too): the clusters' secrets are read here.
    environ: Mapping[str, str] | None = None


def _metrics_port(source: Mapping[str, str]) -> int | None:
    raw = (source.get(METRICS_PORT_VARIABLE) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > 65535:
        raise ValueError(f"{METRICS_PORT_VARIABLE}: must be a port number 0-65535, not {raw!r}")
    return int(raw)


def load_configuration(env: Mapping[str, str] | None = None) -> Configuration:
    """Read and check every setting (``env``: default the process environment).

    Each source is read even when another failed, so one start-up names every problem.
    """
    source: Mapping[str, str] = os.environ if env is None else env
    problems: list[str] = []
    settings = proxmox = policy = metrics_port = None
    try:
        settings = load_settings(env)
        if not settings.socket_mode:
            settings.require_http()
    except SettingsError as exc:
        problems.append(str(exc))
    try:
        proxmox = ProxmoxSettings.from_env(source)
    except ConfigError as exc:
        problems.append(str(exc))
    try:
        config_path = settings.solti_config if settings else source.get("SOLTI_CONFIG") or None
        policy = load_policy(config_path) if config_path else Policy()
    except ConfigError as exc:
        problems.append(str(exc))
    try:
        if settings is not None:
            check_database_path(settings.solti_db)
    except ConfigError as exc:
        problems.append(str(exc))
    try:
        metrics_port = _metrics_port(source)
    except ValueError as exc:
        problems.append(str(exc))
    variables = environment_with_files(source)
    problems.extend(_missing_cluster_secrets(policy, variables))
    if problems or settings is None or proxmox is None or policy is None:
        raise ConfigurationError(problems)
    return Configuration(settings, proxmox, policy, metrics_port, variables)


def _missing_cluster_secrets(policy: Policy | None, variables: Mapping[str, str]) -> list[str]:
    """Each cluster whose ``token_secret_env`` names an unset variable (by name only)."""
    if policy is None:
        return []
    return [
        f"clusters.{name}.token_secret_env: the environment variable {entry.token_secret_env} "
        "is not set; export the cluster's API token secret in it"
        for name, entry in policy.clusters.items()
        if not (variables.get(entry.token_secret_env) or "").strip()
    ]


def build_provisioner(proxmox: ProxmoxSettings, policy: Policy, db: str | Path) -> Provisioner:
    """The provisioning façade: Proxmox client, audit log in ``db``, catalog and defaults."""
    return Provisioner.from_settings(proxmox, policy, db)


def build_clusters(
    proxmox: ProxmoxSettings,
    policy: Policy,
    db: str | Path,
    environ: Mapping[str, str] | None = None,
    *,
    default: Provisioner | None = None,
) -> Clusters:
    """Every cluster's provisioner by name, over one audit file (each built on first use);
    ``default``: an existing provisioner for the ``PROXMOX_*`` cluster."""
    variables = environment_with_files(environ) if environ is None else environ
    return Clusters.from_settings(
        proxmox,
        policy,
        db,
        variables,
        audit=default.audit if default is not None else None,
        default_provisioner=default,
    )


def slack_client(settings: BotSettings) -> WebClient:
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=10,
    )


def build_runtime(
    settings: BotSettings,
    provisioner: Any,
    policy: Any,
    *,
    client: WebClient | None = None,
    clock: Callable[[], datetime] | None = None,
    audit: Any = None,
) -> Runtime:
    """The bot's stores over ``settings.solti_db``, its Slack client and its pools.

    ``provisioner``: a ``Clusters`` registry, or one provisioner (the ``default`` cluster alone).
    """
    client = client or slack_client(settings)
    clusters = provisioner if isinstance(provisioner, Clusters) else Clusters.single(provisioner)
    clock = clock or (lambda: datetime.now(UTC))
    rules = rules_from_policy(policy)
    database = BotDatabase(settings.solti_db)
    defaults = getattr(policy, "defaults", None)
    runtime = Runtime(
        settings=settings,
        clusters=clusters,
        policy=policy,
        rules=rules,
        audit_override=audit,
        client=client,
        database=database,
        approvals=ApprovalStore(database, clock),
        keys=KeyStore(database, clock),
        directory=Directory(client, rules.usergroups),
        clock=clock,
        team_keys=tuple(getattr(defaults, "ssh_keys", None) or ()),
    )
    runtime.approvals.publish_waiting()
    return runtime


@dataclass
class Bot:
    """One assembled bot: its runtime, the Bolt app around it, and its scheduled jobs."""

    runtime: Runtime
    app: App
    scheduler: BotScheduler

    def wsgi(self, *, metrics: bool = True) -> WsgiApp:
        """Slack's events, ``/healthz`` and (``metrics``) ``/metrics``: the HTTP-mode app."""
        routes = {"/metrics": telemetry.metrics_wsgi_app()} if metrics else None
        return make_wsgi_app(self.app, self.runtime.acks, routes)

    def close(self) -> None:
        """Stop the jobs, persist what must survive a restart, take no more work."""
        self.scheduler.stop()
        self.runtime.close()


def build_bot(
    settings: BotSettings,
    provisioner: Any,
    policy: Any,
    *,
    client: WebClient | None = None,
    clock: Callable[[], datetime] | None = None,
    audit: Any = None,
    socket_mode: bool | None = None,
) -> Bot:
    """Runtime -> Bolt app -> scheduler (not started: the service starts it with the server)."""
    runtime = build_runtime(settings, provisioner, policy, client=client, clock=clock, audit=audit)
    return Bot(runtime, create_app(runtime, socket_mode=socket_mode), BotScheduler(runtime))


def bot_from_configuration(config: Configuration) -> Bot:
    clusters = build_clusters(
        config.proxmox, config.policy, config.settings.solti_db, config.environ
    )
    return build_bot(config.settings, clusters, config.policy)


def metrics_listener(host: str, port: int | None) -> WsgiListener | None:
    if port is None:
        return None
    return WsgiListener(make_route_table(_metrics_routes()), host, port, threads=2)


def _metrics_routes() -> dict[str, WsgiApp]:
    return {"/metrics": telemetry.metrics_wsgi_app()}


class HttpService:
    """HTTP mode: Slack's events (and ``/healthz``) on ``port``; ``/metrics`` beside them, or
    on ``metrics_port`` alone (the Slack port faces the internet, Prometheus need not)."""

    def __init__(
        self, bot: Bot, host: str = "127.0.0.1", port: int = 0, metrics_port: int | None = None
    ) -> None:
        self.bot = bot
        self.slack = WsgiListener(bot.wsgi(metrics=metrics_port is None), host, port)
        self.metrics = metrics_listener(host, metrics_port)

    def start(self, *, jobs: bool = True) -> HttpService:
        """Listen (``OSError`` if a port is taken), then start the jobs (``jobs=False``: tests
        that drive expiry and reports themselves)."""
        try:
            self.slack.start()
            if self.metrics is not None:
                self.metrics.start()
        except OSError:
            self.stop()
            raise
        if jobs:
            self.bot.scheduler.start()
        return self

    def stop(self) -> None:
        """Idempotent: the listeners stop, then the bot (jobs, seen keys, pools)."""
        self.slack.stop()
        if self.metrics is not None:
            self.metrics.stop()
        self.bot.close()

    @property
    def url(self) -> str:
        return self.slack.url

    @property
    def events_url(self) -> str:
        return self.slack.events_url

    @property
    def metrics_url(self) -> str:
        return (self.metrics or self.slack).url + "/metrics"

    def __enter__(self) -> HttpService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SocketModeService:
    """Socket Mode: the websocket to Slack, ``/healthz`` following it, ``/metrics`` beside
    it or on ``metrics_port`` alone (``port=None``: no health listener)."""

    def __init__(
        self,
        bot: Bot,
        host: str = "127.0.0.1",
        port: int | None = 0,
        metrics_port: int | None = None,
    ) -> None:
        self.bot = bot
        routes = _metrics_routes() if metrics_port is None else None
        self.runner = SocketModeRunner(
            bot.app,
            bot.runtime.settings,
            acks=bot.runtime.acks,
            host=host,
            port=port,
            extra_routes=routes,
        )
        self.metrics = metrics_listener(host, metrics_port)

    def listen(self) -> SocketModeService:
        """Bind the listeners first, so a probe sees 503 while the session opens."""
        self.runner.listen()
        if self.metrics is not None:
            self.metrics.start()
        return self

    def connect(self) -> SocketModeService:
        self.bot.scheduler.start()
        self.runner.connect()
        return self

    def stop(self) -> None:
        self.runner.stop()
        if self.metrics is not None:
            self.metrics.stop()
        self.bot.close()

    @property
    def url(self) -> str | None:
        return self.runner.url

    @property
    def metrics_url(self) -> str | None:
        listener = self.metrics.url if self.metrics is not None else self.runner.url
        return listener + "/metrics" if listener else None

    def __enter__(self) -> SocketModeService:
        return self.listen().connect()

    def __exit__(self, *exc: object) -> None:
        self.stop()
