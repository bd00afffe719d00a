"""Listener registration, one module per kind of Slack request."""

from __future__ import annotations

from typing import Any

from solti.bot import home
from solti.bot.listeners import actions, slash, views

__all__ = ["register"]


def register(app: Any) -> None:
    slash.register(app)
    actions.register(app)
    views.register(app)
    home.register(app)
