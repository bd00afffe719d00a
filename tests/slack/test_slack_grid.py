"""Enterprise Grid and Slack Connect shapes in every payload kind the stand-in sends.

https://docs.slack.dev/enterprise-grid (org-wide installs: `is_enterprise_install`, the
`enterprise` object, `team: null` in interactions), https://docs.slack.dev/apis/slack-connect
(a person's `user.team_id` is their own workspace, not the one they act in) and
https://docs.slack.dev/interactivity/implementing-slash-commands (`enterprise_id`,
`enterprise_name` in the slash command form). Grid user ids start with W.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from capture_app import capture_app
from slack_sdk import WebClient

from solti.sandbox.slack import GridOrg, SlackStandIn, SlackUser

BUTTON = {
    "type": "actions",
    "block_id": "b",
    "elements": [
        {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "Go"}}
    ],
}
MODAL = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Form"},
    "submit": {"type": "plain_text", "text": "Go"},
    "notify_on_close": True,
    "blocks": [BUTTON],
}


def _all_kinds(standin: SlackStandIn, user: SlackUser) -> None:
    """A slash command, a click on a message, a click in a view, a submission, a close."""
    message = standin.state.post_message("C0INFRA", {"text": "t", "blocks": [BUTTON]})
    user.slash("help")
    user.click({**message, "channel": "C0INFRA"}, "go")
    view = standin.state.open_view(MODAL, user.user_id)
    user.click(view, "go")
    user.submit_view(view)
    again = standin.state.open_view(MODAL, user.user_id)
    user.close_view(again)


@pytest.fixture
def org_wide() -> Iterator[SlackStandIn]:
    with SlackStandIn(grid=GridOrg()) as slack:
        slack.add_channel("C0INFRA", "infra", ["W0ALICE"])
        yield slack


def test_org_wide_install_shapes(org_wide: SlackStandIn) -> None:
    with capture_app() as (url, received):
        user = SlackUser(url, "s", org_wide, user_id="W0ALICE")
        _all_kinds(org_wide, user)
    slash, *interactions = received
    assert slash["enterprise_id"] == "E0001" and slash["enterprise_name"] == "Example Org"
    assert slash["is_enterprise_install"] == "true" and slash["user_id"] == "W0ALICE"
    assert [p["type"] for p in interactions] == [
        "block_actions",
        "block_actions",
        "view_submission",
        "view_closed",
    ]
    for payload in interactions:
        assert payload["team"] is None
        assert payload["enterprise"] == {"id": "E0001", "name": "Example Org"}
        assert payload["is_enterprise_install"] is True
        assert payload["user"]["id"] == "W0ALICE"


def test_workspace_install_in_a_grid_org_keeps_the_team(org_wide: SlackStandIn) -> None:
    org_wide.state.grid = GridOrg(org_wide=False)
    with capture_app() as (url, received):
        _all_kinds(org_wide, SlackUser(url, "s", org_wide, user_id="W0ALICE"))
    slash, *interactions = received
    assert slash["is_enterprise_install"] == "false" and slash["enterprise_id"] == "E0001"
    for payload in interactions:
        assert payload["team"]["id"] == "T0001"
        assert payload["team"]["enterprise_id"] == "E0001"
        assert payload["is_enterprise_install"] is False


def test_slack_connect_person_from_another_workspace() -> None:
    with SlackStandIn() as slack, capture_app() as (url, received):
        slack.add_channel("C0INFRA", "infra", ["U0GUEST"])
        user = replace(SlackUser(url, "s", slack, user_id="U0GUEST"), user_team_id="T0OTHER")
        _all_kinds(slack, user)
    for payload in received[1:]:
        assert payload["user"]["team_id"] == "T0OTHER"
        assert payload["team"]["id"] == "T0001"
        assert payload["enterprise"] is None and payload["is_enterprise_install"] is False


def test_auth_test_names_the_org(org_wide: SlackStandIn) -> None:
    answer = WebClient(token="xoxb-t", base_url=org_wide.url).auth_test()
    assert answer["enterprise_id"] == "E0001" and answer["is_enterprise_install"] is True
