"""Helpers shared by listeners: the runtime and a Caller from what Bolt injects."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from solti import telemetry
from solti.bot.flows.caller import Caller, describe_error
from solti.bot.runtime import Runtime

log = logging.getLogger("solti.bot.listeners")


def runtime_in(context: Any) -> Runtime:
    """The app's runtime, put in every request's context by ``bot.middleware``."""
    runtime: Runtime = context["runtime"]
    return runtime


def ephemeral_via_respond(respond: Any, replace: bool = False) -> Callable[[dict[str, Any]], None]:
    def reply(payload: dict[str, Any]) -> None:
        respond(response_type="ephemeral", replace_original=replace, **payload)

    return reply


def ephemeral_via_api(
    runtime: Runtime, channel: str | None, user: str
) -> Callable[[dict[str, Any]], None]:
    """For requests without a response_url (modal submissions): chat.postEphemeral, else a DM."""

    def reply(payload: dict[str, Any]) -> None:
        if channel:
            runtime.client.chat_postEphemeral(channel=channel, user=user, **payload)
        else:
            runtime.client.chat_postMessage(channel=user, **payload)

    return reply


def guarded(caller: Caller, work: Callable[[], None]) -> None:
    """Lazy listeners bypass app.error, so failures are turned into a polite reply here."""
    try:
        with caller.runtime.on_cluster(caller.cluster):
            work()
    except Exception as exc:
        text, _ = describe_error(exc)
        try:
            caller.say_error(text)
        except Exception:
            log.warning("could not report an error to %s", caller.user)


def caller_from(
    context: Any,
    reply: Callable[[dict[str, Any]], None],
    trigger_id: str | None = None,
    cluster: str | None = None,
) -> Caller:
    """The caller of this request; ``cluster`` as typed (``--cluster``, checked already),
    else the channel's route (policy ``clusters.NAME.channels``), else ``default``."""
    runtime = runtime_in(context)
    channel = context.get("origin_channel")

    def reply_after_acks(payload: dict[str, Any]) -> None:
        runtime.work.wait_for_acks()  # a reply can wait; an acknowledgement cannot (AckGate)
        reply(payload)

    return Caller(
        runtime=runtime,
        user=context["requester"],
        channel=channel,
        request_id=context["request_id"],
        reply=reply_after_acks,
        trigger_id=trigger_id,
        cluster=runtime.clusters.resolve(cluster, channel),
    )


def tracked(caller: Caller, verb: str, work: Callable[[], None]) -> None:
    """One log line and one ``solti_commands_total`` sample per request, with its request id.

    Failures become a polite reply (as ``guarded``) and count as ``failed``.
    """
    with (
        telemetry.log_context(request_id=caller.request_id, user=caller.user),
        telemetry.track_command(verb, log) as outcome,
        caller.runtime.on_cluster(caller.cluster),
    ):
        try:
            work()
        except Exception as exc:
            outcome["outcome"] = "failed"
            text, _ = describe_error(exc)
            try:
                caller.say_error(text)
            except Exception:
                log.warning("could not report an error to %s", caller.user)


def later(caller: Caller, verb: str, work: Callable[[], None], *, quick: bool = False) -> None:
    """Run ``work`` after the ack (``Runtime.work``), tracked as ``verb``.

    Listeners ack first and hand the rest over here: Bolt's lazy listeners would deep-copy
    the whole request for each one, which cost more than the acknowledgement itself.
    ``quick``: a short reply that waits for no Proxmox task (``AfterAck.quick``).
    """
    after_ack = caller.runtime.work
    submit = after_ack.quick if quick else after_ack.long
    submit(tracked, caller, verb, work)
