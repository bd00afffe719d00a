"""The composition of one Bolt app: client, stores, middleware, listeners, error handler.

No module-level App: tests and the sandbox console build as many as they need, each with its
own database handle and scheduler (see bot.runtime).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from solti.bot import listeners, middleware
from solti.bot.approvals import ApprovalStore
from solti.bot.db import BotDatabase
from solti.bot.directory import Directory
from solti.bot.flows.base import describe_error
from solti.bot.keys import KeyStore
from solti.bot.policy import rules_from_policy
from solti.bot.runtime import Runtime, register_runtime
from solti.bot.settings import BotSettings

__all__ = ["create_app"]

log = logging.getLogger("solti.bot.app")


def _client(settings: BotSettings) -> WebClient:
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=10,
    )


def create_app(
    settings: BotSettings,
    provisioner: Any,
    policy: Any,
    *,
    client: WebClient | None = None,
    audit: Any = None,
    clock: Callable[[], datetime] | None = None,
    socket_mode: bool | None = None,
) -> App:
    """Build the Slack app around ``provisioner`` (the provisioning façade) and ``policy``."""
    client = client or _client(settings)
    clock = clock or (lambda: datetime.now(UTC))
    rules = rules_from_policy(policy)
    database = BotDatabase(settings.solti_db)
    defaults = getattr(policy, "defaults", None)
    runtime = Runtime(
        settings=settings,
        provisioner=provisioner,
        policy=policy,
        rules=rules,
        audit=audit if audit is not None else getattr(provisioner, "audit", None),
        client=client,
        database=database,
        approvals=ApprovalStore(database, clock),
        keys=KeyStore(database, clock),
        directory=Directory(client, rules.usergroups),
        clock=clock,
        team_keys=tuple(getattr(defaults, "ssh_keys", None) or ()),
    )
    runtime.approvals.publish_waiting()
    use_socket = settings.socket_mode if socket_mode is None else socket_mode
    secret = settings.slack_signing_secret
    app = App(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        token_verification_enabled=False,
        # Listeners are pure and fast and run on the request thread; they ack and hand the
        # slow rest to the runtime's pools themselves (bot.listeners.common.later). This skips
        # Bolt's 10 ms ack-polling loop and the deep copy of each request that lazy listeners
        # make (see docs/performance.md) while Slack still gets its answer at once.
        process_before_response=True,
        request_verification_enabled=not use_socket,
        listener_executor=ThreadPoolExecutor(max_workers=4, thread_name_prefix="solti-bolt"),
        # Only slash commands and interactivity reach us (no Events API subscription, no
        # workflow functions), so these built-ins have nothing to do. ssl_check stays: Slack
        # probes slash-command URLs with it.
        ignoring_self_events_enabled=False,
        url_verification_enabled=False,
        attaching_function_token_enabled=False,
    )
    register_runtime(app, runtime)
    middleware.install(app, runtime)
    listeners.register(app)

    @app.error
    def on_error(error: Exception, body: dict[str, Any], respond: Any) -> BoltResponse:
        """Anything a handler did not expect: logged here, a polite line to the person."""
        text, _ = describe_error(error)
        if body.get("response_url") or body.get("response_urls"):
            try:
                respond(text=text, response_type="ephemeral", replace_original=False)
            except Exception:
                log.warning("could not tell the user about an error")
        if "command" in body:
            return BoltResponse(status=200, body=text)
        return BoltResponse(status=200, body="")

    return app
