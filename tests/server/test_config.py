"""Settings come from the environment and flags, and bad values name the setting."""

from __future__ import annotations

import pytest

from server.config import Config, ConfigError, settings_table


def test_defaults_are_the_embedded_setup() -> None:
    config = Config.from_env({})
    assert config.db_url.startswith("sqlite+aiosqlite:///")
    assert (config.host, config.port) == ("127.0.0.1", 8080)
    assert config.timezone == "Asia/Shanghai"
    assert config.redis_url is None


def test_environment_then_flags() -> None:
    env = {
        "XIESHANG_PORT": "9000",
        "XIESHANG_DB": "postgresql+asyncpg://x@h/db",
        "XIESHANG_REDIS_URL": "redis://h",
    }
    config = Config.from_env(env, port=9100)
    assert config.port == 9100
    assert config.db_url == "postgresql+asyncpg://x@h/db"
    assert config.redis_url == "redis://h"


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("XIESHANG_PORT", "http"),
        ("XIESHANG_PORT", "70000"),
        ("XIESHANG_DB", "mysql://x"),
        ("XIESHANG_TIMEZONE", "Asia/Atlantis"),
        ("XIESHANG_LOG_LEVEL", "LOUD"),
        ("XIESHANG_TOKEN_TTL_HOURS", "0"),
    ],
)
def test_bad_values_name_the_variable(var: str, value: str) -> None:
    with pytest.raises(ConfigError, match=var):
        Config.from_env({var: value})


def test_every_setting_has_a_documented_variable() -> None:
    variables = [row[0] for row in settings_table()]
    assert len(variables) == len(set(variables))
    assert all(v.startswith("XIESHANG_") for v in variables)
    readme = (__import__("pathlib").Path(__file__).resolve().parents[2] / "README.md").read_text(
        encoding="utf-8"
    )
    missing = [v for v in variables if v not in readme]
    assert missing == [], "README's settings table lacks these"
