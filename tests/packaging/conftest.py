"""Packaging tests build a wheel and a fresh virtual environment: slow, but always run."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: builds or installs the package; takes tens of seconds (never skipped)"
    )
