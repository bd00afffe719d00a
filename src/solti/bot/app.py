"""One Bolt app around a runtime: middleware, listeners, error handler.

No module-level App: the composition root (``solti.composition.build_bot``) builds the
runtime and then the app, and tests build as many as they need, each with its own runtime.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse

from solti.bot import listeners, middleware
from solti.bot.flows.caller import describe_error
from solti.bot.runtime import Runtime

__all__ = ["create_app"]

log = logging.getLogger("solti.bot.app")


def create_app(runtime: Runtime, *, socket_mode: bool | None = None) -> App:
    """The Slack app for ``runtime``; ``socket_mode`` (default: the settings') skips the
    signature check, since Socket Mode envelopes carry none."""
    settings = runtime.settings
    use_socket = settings.socket_mode if socket_mode is None else socket_mode
    secret = settings.slack_signing_secret
    app = App(
        client=runtime.client,
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
