"""A tiny real Bolt app served over real HTTP, for testing the stand-in and the user agent.

It is not the product bot: it exercises each Slack surface once (post, update, respond,
modal open, field errors, view submission) so the tests see what the agent sends and what
the stand-in records, end to end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

SECRET = "test-signing-secret"

APPROVAL_BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Template build requested"}},
    {
        "type": "section",
        "block_id": "what",
        "fields": [
            {"type": "mrkdwn", "text": "*Distribution*\nrocky9"},
            {"type": "mrkdwn", "text": "*Requested by*\n<@U0ALICE>"},
        ],
    },
    {
        "type": "actions",
        "block_id": "approval",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "style": "primary",
                "value": "req-42",
            },
            {
                "type": "button",
                "action_id": "deny",
                "text": {"type": "plain_text", "text": "Deny"},
                "style": "danger",
                "value": "req-42",
            },
        ],
    },
]

MODAL = {
    "type": "modal",
    "callback_id": "vm_create",
    "title": {"type": "plain_text", "text": "Create VM"},
    "submit": {"type": "plain_text", "text": "Create"},
    "private_metadata": "C0INFRA",
    "blocks": [
        {
            "type": "input",
            "block_id": "template",
            "label": {"type": "plain_text", "text": "Template"},
            "element": {
                "type": "static_select",
                "action_id": "template",
                "options": [
                    {"text": {"type": "plain_text", "text": "Rocky 9"}, "value": "rocky9"},
                    {"text": {"type": "plain_text", "text": "Debian 12"}, "value": "debian12"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "name"},
        },
        {
            "type": "input",
            "block_id": "disk",
            "optional": True,
            "label": {"type": "plain_text", "text": "Disk (GB)"},
            "element": {
                "type": "number_input",
                "action_id": "disk_gb",
                "is_decimal_allowed": False,
                "min_value": "10",
            },
        },
        {
            "type": "input",
            "block_id": "clone",
            "label": {"type": "plain_text", "text": "Clone"},
            "element": {
                "type": "radio_buttons",
                "action_id": "mode",
                "initial_option": {
                    "text": {"type": "plain_text", "text": "Linked"},
                    "value": "linked",
                },
                "options": [
                    {"text": {"type": "plain_text", "text": "Linked"}, "value": "linked"},
                    {"text": {"type": "plain_text", "text": "Full"}, "value": "full"},
                ],
            },
        },
    ],
}


def build_app(api_url: str, seen: dict[str, list[Any]]) -> App:
    """The tiny app; `seen` collects what listeners observed (headers, API errors)."""
    client = WebClient(token="xoxb-tiny", base_url=api_url)
    app = App(client=client, signing_secret=SECRET)

    @app.command("/solti")
    def command(ack: Any, command: dict, client: WebClient, respond: Any, request: Any) -> None:
        seen.setdefault("retry", []).append(request.headers.get("x-slack-retry-num"))
        if command["text"] == "ack-text":
            ack("Only you see this")
            return
        if command["text"] == "ack-in-channel":
            ack(text="Everyone sees this", response_type="in_channel")
            return
        ack()
        text, channel = command["text"], command["channel_id"]
        if text == "approve-me":
            client.chat_postMessage(channel=channel, text="approval", blocks=APPROVAL_BLOCKS)
        elif text == "modal":
            client.views_open(trigger_id=command["trigger_id"], view=MODAL)
        elif text == "progress":
            posted = client.chat_postMessage(channel=channel, text="Creating VM: 1/3 clone")
            for step in ("2/3 resize", "3/3 start"):
                client.chat_update(channel=channel, ts=posted["ts"], text=f"Creating VM: {step}")
            client.chat_postMessage(channel=channel, thread_ts=posted["ts"], text="task ids")
        elif text == "bad-blocks":
            try:
                client.chat_postMessage(
                    channel=channel, text="x", blocks=[{"type": "header", "text": "nope"}]
                )
            except SlackApiError as exc:
                seen.setdefault("errors", []).append(exc.response.data)
        else:
            respond(f"Unknown command: {text}")

    @app.action("approve")
    def approve(ack: Any, body: dict, respond: Any) -> None:
        ack()
        seen.setdefault("actions", []).append(body)
        respond(replace_original=True, text=f"Approved by <@{body['user']['id']}>")

    @app.action("deny")
    def deny(ack: Any, body: dict, respond: Any) -> None:
        ack()
        respond(delete_original=True)

    @app.view("vm_create")
    def submitted(ack: Any, view: dict, client: WebClient) -> None:
        values = view["state"]["values"]
        name = values["name"]["name"]["value"]
        if " " in name:
            ack(response_action="errors", errors={"name": "No spaces in a VM name"})
            return
        ack()
        seen.setdefault("submissions", []).append(values)
        client.chat_postMessage(channel=view["private_metadata"], text=f"Creating {name}")

    return app


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(app: App) -> Iterator[str]:
    """Serve the app on 127.0.0.1:0; yields the events URL."""
    server = make_server(
        "127.0.0.1",
        0,
        SlackRequestHandler(app),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    finally:
        server.shutdown()
        server.server_close()
