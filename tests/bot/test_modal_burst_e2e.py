"""Fifty people open the create form within a second, while Proxmox is slow.

Slack's trigger_id lives 3 s. Before, ``views.open`` ran on the quick pool (4 workers)
behind each other form's template listing, so under a burst with a slow Proxmox most opens
came too late and Slack answered ``expired_trigger_id``: the person saw nothing.
Now the loading view is opened at once, beside the acknowledgement; the slow rest follows.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.bot.conftest import Harness

PEOPLE = [f"U0BURST{n:02d}" for n in range(50)]


def test_fifty_forms_opened_at_once_all_open(bot: Harness) -> None:
    bot.env.pve.faults.latency(0.4, method="GET")  # every template listing is slow
    try:
        with ThreadPoolExecutor(len(PEOPLE)) as pool:
            replies = list(pool.map(lambda u: bot.user.slash("vm create", user=u), PEOPLE))
        assert all(r.status_code == 200 for r in replies)

        def filled() -> bool:
            views = bot.standin.open_views()
            return len([v for v in views if v.get("callback_id") == "vm_create"]) == len(PEOPLE)

        bot.standin.wait_for(filled, 60)
    finally:
        bot.env.pve.faults.clear()
    opens = bot.standin.calls_to("views.open")
    expired = [c for c in opens if c.response.get("error") == "expired_trigger_id"]
    assert not expired, f"{len(expired)} of {len(opens)} forms opened too late"
    assert len(opens) == len(PEOPLE)
