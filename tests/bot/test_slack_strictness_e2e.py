"""The bot where Slack is strict: clicks inside views, DMs between people.

https://docs.slack.dev/reference/interaction-payloads/block_actions-payload (a click in a
view carries ``view`` and no ``response_url``) and
https://docs.slack.dev/reference/methods/chat.postMessage (``channel_not_found`` for a
conversation the app is not in; a user id posts to the app's DM).
"""

from __future__ import annotations

from solti.bot.blocks.replies import REMOVE_ACTION
from tests.bot.conftest import ALICE, KEY, Harness

BUTTON_VIEW = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Remove"},
    "blocks": [
        {
            "type": "actions",
            "block_id": "remove",
            "elements": [
                {
                    "type": "button",
                    "action_id": REMOVE_ACTION,
                    "text": {"type": "plain_text", "text": "Remove"},
                    "value": "not-a-vm",
                }
            ],
        }
    ],
}


def test_an_error_for_a_click_inside_a_modal_reaches_the_person(bot: Harness) -> None:
    view = bot.standin.state.open_view(BUTTON_VIEW, ALICE)
    reply = bot.user.click(view, REMOVE_ACTION)
    assert reply.status_code == 200
    dm = bot.standin.wait_for(lambda: bot.standin.messages(ALICE))
    assert "does not name a VM" in dm[-1]["text"]
    assert not bot.standin.response_posts  # there was no response_url to use


def test_create_in_a_dm_between_people_says_where_to_run_it(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.in_channel("D0ALICEBOB").slash("vm create rocky9")
    text = bot.wait_ephemeral("direct message between people", timeout=20)
    assert "/invite" not in text
    assert bot.standin.calls_to("chat.postMessage")[-1].response["error"] == "channel_not_found"
