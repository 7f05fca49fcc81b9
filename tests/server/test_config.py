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
        ("XIESHANG_METRICS_TOKEN", "short"),
        ("XIESHANG_METRICS_TOKEN", "sixteen or more but spaced"),
        ("XIESHANG_LOG_FORMAT", "xml"),
        ("XIESHANG_MAIL_BACKLOG_MINUTES", "0"),
        ("XIESHANG_REMIND_SECONDS", "0"),
        ("XIESHANG_JOB_LOCK_SECONDS", "1"),  # shorter than a lock server may take to answer
        ("XIESHANG_JOB_LOCK_SECONDS", "3600"),  # a dead holder's jobs would wait an hour
        ("XIESHANG_OIDC_ISSUER", "ftp://id.example.org"),
        ("XIESHANG_OIDC_CREATE_ROLE", "unit"),  # a unit account needs its unit
        ("XIESHANG_LDAP_URL", "http://ldap.example.org"),
        ("XIESHANG_LDAP_USER_DN", "uid=someone,ou=people,dc=example,dc=org"),  # no {username}
        ("XIESHANG_LDAP_ROLE_GROUPS", '["cn=staff"]'),
        ("XIESHANG_LDAP_ROLE_GROUPS", '{"cn=staff,dc=example,dc=org": "boss"}'),
        ("XIESHANG_LDAP_DEFAULT_ROLE", "staff"),  # directory people never become staff by default
    ],
)
def test_bad_values_name_the_variable(var: str, value: str) -> None:
    with pytest.raises(ConfigError, match=var):
        Config.from_env({var: value})


def test_sign_in_settings_that_only_work_together_are_checked_together() -> None:
    with pytest.raises(ConfigError, match="XIESHANG_OIDC_CLIENT_ID"):
        Config.from_env({"XIESHANG_OIDC_ISSUER": "https://id.example.org"})
    with pytest.raises(ConfigError, match="XIESHANG_LDAP_USER_DN or XIESHANG_LDAP_SEARCH_BASE"):
        Config.from_env({"XIESHANG_LDAP_URL": "ldaps://ldap.example.org"})
    groups = '{"cn=staff,ou=groups,dc=example,dc=org": "staff", "cn=m,dc=example,dc=org": "member"}'
    config = Config.from_env(
        {
            "XIESHANG_LDAP_URL": "ldaps://ldap.example.org",
            "XIESHANG_LDAP_SEARCH_BASE": "ou=people,dc=example,dc=org",
            "XIESHANG_LDAP_ROLE_GROUPS": groups,
        }
    )
    assert config.ldap_role_groups == (
        ("cn=staff,ou=groups,dc=example,dc=org", "staff"),
        ("cn=m,dc=example,dc=org", "member"),
    )
    shown = repr(Config(ldap_bind_password="bind-secret-1", oidc_client_secret="client-secret-2"))
    assert "bind-secret-1" not in shown and "client-secret-2" not in shown  # never in logs


def test_every_setting_has_a_documented_variable() -> None:
    variables = [row[0] for row in settings_table()]
    assert len(variables) == len(set(variables))
    assert all(v.startswith("XIESHANG_") for v in variables)
    readme = (__import__("pathlib").Path(__file__).resolve().parents[2] / "README.md").read_text(
        encoding="utf-8"
    )
    missing = [v for v in variables if v not in readme]
    assert missing == [], "README's settings table lacks these"


def test_the_public_url_defaults_to_the_address_serve_listens_on() -> None:
    assert Config.from_env({}).public_url == "http://127.0.0.1:8080"
    assert Config.from_env({}, port=8099).public_url == "http://127.0.0.1:8099"
    assert Config.from_env({"XIESHANG_PORT": "9000"}).public_url == "http://127.0.0.1:9000"
    assert Config.from_env({}, host="10.1.2.3", port=81).public_url == "http://10.1.2.3:81"
    assert Config.from_env({}, host="0.0.0.0").public_url == "http://127.0.0.1:8080"
    assert Config.from_env({}, host="::1").public_url == "http://[::1]:8080"
    chosen = {"XIESHANG_PUBLIC_URL": "https://xs.example.org/"}
    assert Config.from_env(chosen, port=8099).public_url == "https://xs.example.org"


def test_operating_settings_are_read_from_the_environment() -> None:
    env = {
        "XIESHANG_METRICS_TOKEN": "m" * 20,
        "XIESHANG_LOG_FORMAT": "json",
        "XIESHANG_MAIL_BACKLOG_MINUTES": "30",
    }
    config = Config.from_env(env)
    assert (config.metrics_token, config.log_format, config.mail_backlog_minutes) == (
        "m" * 20,
        "json",
        30,
    )
    assert "m" * 20 not in repr(config)  # the token is a secret
    assert Config.from_env({}).metrics_token is None  # off by default


def test_job_settings_are_read_and_default_to_hourly_reminders_and_a_30_second_lock() -> None:
    assert (Config.from_env({}).remind_seconds, Config.from_env({}).job_lock_seconds) == (3600, 30)
    env = {"XIESHANG_REMIND_SECONDS": "60", "XIESHANG_JOB_LOCK_SECONDS": "10"}
    config = Config.from_env(env)
    assert (config.remind_seconds, config.job_lock_seconds) == (60, 10)
