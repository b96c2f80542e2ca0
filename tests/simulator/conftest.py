"""Fixtures for the simulator tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from greenroom.simulator.script import Script, ScriptConfig, build_script

TOKEN = "s3cret-token-value"


def small_config(seed: int = 11, **overrides: Any) -> ScriptConfig:
    """A short script (a few hundred events) so protocol tests stay fast."""
    values: dict[str, Any] = {"seed": seed, "days": 1.0, "audience": 25, "viewer_pool": 300}
    values.update(overrides)
    return ScriptConfig(**values)


@pytest.fixture(scope="session")
def small_script() -> Script:
    return build_script(small_config())


@pytest.fixture(scope="session")
def make_script() -> Callable[..., Script]:
    """Build a small script with overrides, e.g. `make_script(seed=4)`."""
    return lambda seed=11, **overrides: build_script(small_config(seed, **overrides))


@pytest.fixture
def token() -> str:
    return TOKEN
