"""Pure policy decisions and the adapter from provisioning's Policy."""

from __future__ import annotations

from datetime import timedelta

from solti.bot.policy import Rules, rules_from_policy
from solti.provisioning import Policy

RULES = Rules(
    approvers=frozenset({"U0APP", "S0OPS"}),
    admins=frozenset({"U0ADM"}),
    creators=frozenset({"U0ALICE", "S0DEV"}),
    allowed_channels=frozenset({"C0INFRA"}),
    approvals_channel="C0APPROVALS",
    max_vms_per_user=2,
)


def test_channels() -> None:
    assert RULES.channel_allowed("C0INFRA")
    assert RULES.channel_allowed("C0APPROVALS")
    refused = RULES.channel_allowed("C0RANDOM")
    assert not refused and "<#C0INFRA>" in refused.reason
    assert Rules().channel_allowed("C0ANY")


def test_creators_by_user_group_or_admin() -> None:
    assert RULES.may_create("U0ALICE")
    assert RULES.may_create("U0CAROL", {"S0DEV"})
    assert RULES.may_create("U0ADM")
    assert not RULES.may_create("U0BOB")
    assert Rules().may_create("U0ANYONE")


def test_approvals_no_self_and_only_approvers() -> None:
    assert RULES.may_approve("U0APP", (), "U0ALICE")
    assert RULES.may_approve("U0X", {"S0OPS"}, "U0ALICE")
    own = RULES.may_approve("U0APP", (), "U0APP")
    assert not own and "your own request" in own.reason
    assert not RULES.may_approve("U0BOB", (), "U0ALICE")


def test_quota_shows_what_is_left() -> None:
    assert RULES.quota_left(0) == 2
    assert RULES.quota_left(5) == 0
    assert RULES.check_quota(1)
    full = RULES.check_quota(2)
    assert not full and "already have 2 VMs" in full.reason
    assert Rules().quota_left(100) is None


def test_owner_or_admin_manage() -> None:
    assert RULES.may_manage_vm("U0ALICE", (), "U0ALICE")
    assert RULES.may_manage_vm("U0ADM", (), "U0ALICE")
    refused = RULES.may_manage_vm("U0BOB", (), "U0ALICE")
    assert not refused and "<@U0ALICE>" in refused.reason


def test_usergroups_listed_for_lookup() -> None:
    assert RULES.usergroups == {"S0OPS", "S0DEV"}


def test_from_policy() -> None:
    policy = Policy.model_validate(
        {
            "approvers": ["U0APP"],
            "approvals_channel": "C0APPROVALS",
            "quotas": {"max_vms_per_user": 3},
            "approvals": {"expire_after": "30m"},
            "reports": {"channel": "C0REP", "cron": "0 8 * * *"},
        }
    )
    rules = rules_from_policy(policy)
    assert rules.approvers == {"U0APP"}
    assert rules.max_vms_per_user == 3
    assert rules.approval_expiry == timedelta(minutes=30)
    assert rules.reports_cron == "0 8 * * *" and rules.reports_channel == "C0REP"
