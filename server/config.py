"""One settings object, built once from the environment and CLI flags.

Nothing else in the server reads ``os.environ``: components get their values through
their constructors. Every setting has an environment variable; a bad value fails at start
with a message that names the variable.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import ipaddress
import json
import os
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.auth import Passwords

DEFAULT_DB_URL = "sqlite+aiosqlite:///var/xieshang.db"


class ConfigError(ValueError):
    """A setting has a value the server cannot use; the message names the setting."""


def _int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _timezone(name: str, raw: str) -> str:
    if raw not in zoneinfo.available_timezones():
        raise ConfigError(f"{name} must be an IANA time zone like Asia/Shanghai, got {raw!r}")
    return raw


def _db_url(name: str, raw: str) -> str:
    if not raw.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            f"{name} must start with sqlite+aiosqlite:// or postgresql+asyncpg://, got {raw!r}"
        )
    return raw


def _smtp(name: str, raw: str) -> str:
    if not raw.startswith(("smtp://", "smtps://", "smtp+starttls://")):
        raise ConfigError(
            f"{name} must start with smtp://, smtp+starttls:// or smtps://, got {raw[:20]!r}"
        )
    return raw


def _email(name: str, raw: str) -> str:
    if raw.count("@") != 1 or " " in raw:
        raise ConfigError(f"{name} must be an email address, got {raw!r}")
    return raw


def _secret(name: str, raw: str) -> str:
    if len(raw) < 32:
        raise ConfigError(f"{name} must be at least 32 characters of random text")
    return raw


def _secrets(name: str, raw: str) -> tuple[str, ...]:
    keys = tuple(key.strip() for key in raw.split(",") if key.strip())
    for key in keys:
        _secret(name, key)
    return keys


def _addresses(name: str, raw: str) -> tuple[str, ...]:
    found = tuple(part.strip() for part in raw.split(",") if part.strip())
    for address in found:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ConfigError(
                f"{name} must be IP addresses separated by commas, got {address!r}"
            ) from None
    return found


def _token(name: str, raw: str) -> str:
    if len(raw) < 16 or any(c.isspace() for c in raw):
        raise ConfigError(f"{name} must be at least 16 characters of random text, no spaces")
    return raw


def _log_format(name: str, raw: str) -> str:
    if raw not in {"text", "json"}:
        raise ConfigError(f"{name} must be text or json, got {raw!r}")
    return raw


def _http_url(name: str, raw: str) -> str:
    if not raw.startswith(("https://", "http://")) or " " in raw:
        raise ConfigError(f"{name} must be an https:// (or http://) URL, got {raw!r}")
    return raw.rstrip("/")


def _ldap_url(name: str, raw: str) -> str:
    if not raw.startswith(("ldap://", "ldaps://")) or " " in raw:
        raise ConfigError(f"{name} must be an ldap:// or ldaps:// URL, got {raw!r}")
    return raw


_ROLES = ("staff", "leader", "member", "unit", "guest")


def _role(name: str, raw: str, allowed: tuple[str, ...] = _ROLES) -> str:
    if raw not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


def _with_username(name: str, raw: str) -> str:
    if "{username}" not in raw:
        raise ConfigError(f"{name} must contain {{username}}, got {raw!r}")
    return raw


def _role_groups(name: str, raw: str) -> tuple[tuple[str, str], ...]:
    try:
        groups = json.loads(raw)
    except json.JSONDecodeError:
        groups = None
    if not isinstance(groups, dict) or not all(isinstance(g, str) for g in groups.values()):
        raise ConfigError(
            f'{name} must be a JSON object of group DN to role, like {{"cn=staff,ou=groups,'
            f'dc=example,dc=org": "staff"}}'
        )
    return tuple((dn, _role(name, role)) for dn, role in groups.items())


def _optional(raw: str) -> str | None:
    return raw or None


def _ice_servers(name: str, raw: str) -> list[dict[str, Any]]:
    try:
        servers = json.loads(raw)
    except json.JSONDecodeError:
        servers = None
    valid = isinstance(servers, list) and all(
        isinstance(s, dict) and isinstance(s.get("urls"), (str, list)) for s in servers
    )
    if not valid:
        raise ConfigError(
            f'{name} must be a JSON list like [{{"urls": "stun:stun.example.org:3478"}}, '
            '{"urls": "turn:turn.example.org", "username": "u", "credential": "p"}]'
        )
    return list(servers)


def _janus_urls(name: str, raw: str) -> tuple[str, ...]:
    urls = tuple(u for u in raw.replace(",", " ").split() if u)
    if not urls or not all(u.startswith(("ws://", "wss://")) for u in urls):
        raise ConfigError(f"{name} must be ws:// or wss:// URLs separated by commas, got {raw!r}")
    return urls


def _log_level(name: str, raw: str) -> str:
    level = raw.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"{name} must be one of DEBUG, INFO, WARNING, ERROR, got {raw!r}")
    return level


SESSION_MODES = ("in_person", "remote", "hybrid")
MODE_ALIASES = {"screen": "remote"}  # 屏对屏 screen-to-screen is the sessions' `remote` mode


def _modes(name: str, raw: str) -> tuple[str, ...]:
    found = [MODE_ALIASES.get(m.strip(), m.strip()) for m in raw.split(",") if m.strip()]
    unknown = [m for m in found if m not in SESSION_MODES]
    if not found or unknown:
        raise ConfigError(
            f"{name} must be session modes separated by commas ({', '.join(SESSION_MODES)}; "
            f"screen means remote), got {raw!r}"
        )
    return tuple(m for m in SESSION_MODES if m in found)


# field name -> (environment variable, parser, description for the README table)
_ENV: dict[str, tuple[str, Callable[[str, str], Any], str]] = {
    "db_url": ("XIESHANG_DB", _db_url, "database URL (SQLite or PostgreSQL, async drivers)"),
    "host": ("XIESHANG_HOST", lambda _n, v: v, "address to listen on"),
    "port": ("XIESHANG_PORT", lambda n, v: _int(n, v, 1, 65535), "port to listen on"),
    "public_url": (
        "XIESHANG_PUBLIC_URL",
        lambda _n, v: v.rstrip("/"),
        "URL people use to reach the server (links in invites); unset: http://HOST:PORT",
    ),
    "redis_url": (
        "XIESHANG_REDIS_URL",
        lambda _n, v: _optional(v),
        "Redis URL for several server processes (Socket.IO broadcast)",
    ),
    "redis_channel": (
        "XIESHANG_REDIS_CHANNEL",
        lambda _n, v: v,
        "Redis pub/sub channel shared by the processes of one deployment",
    ),
    "token_ttl_hours": (
        "XIESHANG_TOKEN_TTL_HOURS",
        lambda n, v: _int(n, v, 1, 24 * 90),
        "hours a login token stays valid",
    ),
    "max_body_bytes": (
        "XIESHANG_MAX_BODY_BYTES",
        lambda n, v: _int(n, v, 1024, 100 * 2**20),
        "largest accepted request body",
    ),
    "max_attachment_bytes": (
        "XIESHANG_MAX_ATTACHMENT_BYTES",
        lambda n, v: _int(n, v, 1024, 200 * 2**20),
        "largest file attached to a proposal",
    ),
    "timezone": ("XIESHANG_TIMEZONE", _timezone, "default time zone of new sessions"),
    "log_level": ("XIESHANG_LOG_LEVEL", _log_level, "DEBUG, INFO, WARNING or ERROR"),
    "argon2_time_cost": (
        "XIESHANG_ARGON2_TIME_COST",
        lambda n, v: _int(n, v, 1, 20),
        "argon2id passes per password hash",
    ),
    "argon2_memory_kib": (
        "XIESHANG_ARGON2_MEMORY_KIB",
        lambda n, v: _int(n, v, 8, 2**21),
        "argon2id memory per password hash, KiB",
    ),
    "smtp_url": (
        "XIESHANG_SMTP_URL",
        lambda n, v: _smtp(n, v),
        "SMTP server for invites (smtp://, smtp+starttls://, smtps://); unset: .eml files",
    ),
    "mail_dir": (
        "XIESHANG_MAIL_DIR",
        lambda _n, v: Path(v),
        "where messages are written as .eml files when no SMTP server is set",
    ),
    "mail_from": (
        "XIESHANG_MAIL_FROM",
        lambda n, v: _email(n, v),
        "organizer mailbox of invites (replies go there)",
    ),
    "smtp_timeout_seconds": (
        "XIESHANG_SMTP_TIMEOUT",
        lambda n, v: _int(n, v, 1, 600),
        "seconds each SMTP step may take (a message sent but not confirmed is not resent)",
    ),
    "mail_concurrency": (
        "XIESHANG_MAIL_CONCURRENCY",
        lambda n, v: _int(n, v, 1, 64),
        "emails sent at once, each over its own SMTP connection",
    ),
    "secret_key": (
        "XIESHANG_SECRET_KEY",
        lambda n, v: _secret(n, v),
        "key that signs RSVP and feed links (unset: kept in var/secret.key)",
    ),
    "previous_secret_keys": (
        "XIESHANG_PREVIOUS_SECRET_KEYS",
        _secrets,
        "earlier signing keys, comma-separated: links they signed still work (key rotation)",
    ),
    "secret_file": (
        "XIESHANG_SECRET_FILE",
        lambda _n, v: Path(v),
        "where the generated signing key is kept when XIESHANG_SECRET_KEY is unset",
    ),
    "conflict_buffer_minutes": (
        "XIESHANG_CONFLICT_BUFFER_MINUTES",
        lambda n, v: _int(n, v, 0, 240),
        "minutes that must separate one person's sessions",
    ),
    "room_command_rate": (
        "XIESHANG_ROOM_COMMAND_RATE",
        lambda n, v: _int(n, v, 1, 1000),
        "room commands per second one connection may send (more are refused)",
    ),
    "room_command_burst": (
        "XIESHANG_ROOM_COMMAND_BURST",
        lambda n, v: _int(n, v, 1, 10000),
        "room commands one connection may send at once before the rate applies",
    ),
    "guest_joins_per_window": (
        "XIESHANG_GUEST_JOINS",
        lambda n, v: _int(n, v, 1, 100000),
        "guest joins one client address may make per XIESHANG_GUEST_JOIN_WINDOW",
    ),
    "guest_join_window_seconds": (
        "XIESHANG_GUEST_JOIN_WINDOW",
        lambda n, v: _int(n, v, 1, 86400),
        "seconds over which guest joins per address are counted",
    ),
    "api_rate": (
        "XIESHANG_API_RATE",
        lambda n, v: _int(n, v, 1, 1_000_000),
        "API requests per second one client address may make (more get 429)",
    ),
    "api_burst": (
        "XIESHANG_API_BURST",
        lambda n, v: _int(n, v, 1, 10_000_000),
        "API requests one client address may make at once before the rate applies",
    ),
    "login_failures_per_account": (
        "XIESHANG_LOGIN_FAILURES_PER_ACCOUNT",
        lambda n, v: _int(n, v, 1, 1000),
        "failed sign-ins at one account from one address per XIESHANG_LOGIN_WINDOW; then it waits",
    ),
    "login_failures_per_address": (
        "XIESHANG_LOGIN_FAILURES_PER_ADDRESS",
        lambda n, v: _int(n, v, 1, 100000),
        "failed sign-ins from one client address per XIESHANG_LOGIN_WINDOW before it must wait",
    ),
    "login_window_seconds": (
        "XIESHANG_LOGIN_WINDOW",
        lambda n, v: _int(n, v, 10, 86400),
        "seconds over which failed sign-ins are counted",
    ),
    "trusted_proxies": (
        "XIESHANG_TRUSTED_PROXIES",
        _addresses,
        "reverse proxies whose X-Forwarded-For names the client address (comma-separated IPs)",
    ),
    "room_idle_seconds": (
        "XIESHANG_ROOM_IDLE_SECONDS",
        lambda n, v: _int(n, v, 1, 7 * 86400),
        "seconds a room without connections stays in a process's memory",
    ),
    "room_token_check_seconds": (
        "XIESHANG_ROOM_TOKEN_CHECK_SECONDS",
        lambda n, v: _int(n, v, 1, 3600),
        "seconds between checks that room connections' login tokens are still valid",
    ),
    "remind_seconds": (
        "XIESHANG_REMIND_SECONDS",
        lambda n, v: _int(n, v, 1, 86400),
        "seconds between checks for overdue follow-ups (each is reminded at most once a day)",
    ),
    "reply_days": (
        "XIESHANG_REPLY_DAYS",
        lambda n, v: _int(n, v, 1, 366),
        "calendar days a unit has to reply from the assignment (default: three months)",
    ),
    "reply_working_days": (
        "XIESHANG_REPLY_WORKING_DAYS",
        lambda n, v: _int(n, v, 1, 250),
        "working days a unit has to reply from the assignment (wins over XIESHANG_REPLY_DAYS)",
    ),
    "job_lock_seconds": (
        "XIESHANG_JOB_LOCK_SECONDS",
        lambda n, v: _int(n, v, 3, 300),
        "seconds after which another process takes the once-only jobs over from a dead one",
    ),
    "ws_max_message_bytes": (
        "XIESHANG_WS_MAX_MESSAGE_BYTES",
        lambda n, v: _int(n, v, 1024, 16 * 2**20),
        "largest Socket.IO message a client may send",
    ),
    "ws_slow_client_bytes": (
        "XIESHANG_WS_SLOW_CLIENT_BYTES",
        lambda n, v: _int(n, v, 4096, 2**30),
        "unsent bytes after which a client that does not read is disconnected (it resyncs)",
    ),
    "malloc_arenas": (
        "XIESHANG_MALLOC_ARENAS",
        lambda n, v: _int(n, v, 0, 64),
        "malloc arenas the server process may use on Linux (glibc); 0: the C library's default",
    ),
    "recording_dir": (
        "XIESHANG_RECORDING_DIR",
        lambda _n, v: Path(v),
        "where session recordings (WebM files) are written",
    ),
    "composite_budget_seconds": (
        "XIESHANG_COMPOSITE_BUDGET_SECONDS",
        lambda n, v: _int(n, v, 10, 86400),
        "seconds beyond the recording's own duration that the job making a session's composite "
        "recording may take before it is killed",
    ),
    "ice_servers": (
        "XIESHANG_ICE_SERVERS",
        _ice_servers,
        "STUN/TURN servers for video, as a JSON list of {urls, username, credential}",
    ),
    "janus_urls": (
        "XIESHANG_JANUS_URLS",
        _janus_urls,
        "Janus WebSocket API endpoints (ws://host:8188, comma separated); unset: embedded SFU",
    ),
    "janus_api_secret": (
        "XIESHANG_JANUS_API_SECRET",
        lambda _n, v: _optional(v),
        "the api_secret of the Janus instances (random; never sent to clients)",
    ),
    "janus_admin_key": (
        "XIESHANG_JANUS_ADMIN_KEY",
        lambda _n, v: _optional(v),
        "the VideoRoom admin_key of the Janus instances (random; needed to create rooms)",
    ),
    "metrics_token": (
        "XIESHANG_METRICS_TOKEN",
        _token,
        "bearer token that GET /metrics (Prometheus format) asks for; unset: no /metrics",
    ),
    "mail_backlog_minutes": (
        "XIESHANG_MAIL_BACKLOG_MINUTES",
        lambda n, v: _int(n, v, 1, 24 * 60),
        "mail waiting longer than this makes /api/health degraded (as does mail that failed)",
    ),
    "log_format": (
        "XIESHANG_LOG_FORMAT",
        _log_format,
        "text, or json: one JSON object per line (time, level, logger, message, request_id)",
    ),
    "during_modes": (
        "XIESHANG_DURING_MODES",
        _modes,
        "session modes that count for the `during` consultation stage (办中面商), e.g. "
        "in_person,hybrid,remote (remote = screen, 屏对屏)",
    ),
    "oidc_issuer": (
        "XIESHANG_OIDC_ISSUER",
        _http_url,
        "OpenID Connect provider (issuer URL) for 'sign in with'; unset: no such button",
    ),
    "oidc_client_id": (
        "XIESHANG_OIDC_CLIENT_ID",
        lambda _n, v: v,
        "this server's client id at the OpenID Connect provider",
    ),
    "oidc_client_secret": (
        "XIESHANG_OIDC_CLIENT_SECRET",
        lambda _n, v: _optional(v),
        "this server's client secret there (unset: a public client, PKCE only)",
    ),
    "oidc_claim": (
        "XIESHANG_OIDC_CLAIM",
        lambda _n, v: v,
        "ID token claim matched to accounts: email matches their email, any other their username",
    ),
    "oidc_name": (
        "XIESHANG_OIDC_NAME",
        lambda _n, v: v[:40],
        "name of the provider on the sign-in button (unset: 'your organisation's account')",
    ),
    "oidc_create_role": (
        "XIESHANG_OIDC_CREATE_ROLE",
        lambda n, v: _role(n, v, ("staff", "leader", "member", "guest")),
        "role of accounts created at a first OpenID Connect sign-in; unset: unknown people refused",
    ),
    "ldap_url": (
        "XIESHANG_LDAP_URL",
        _ldap_url,
        "LDAP directory for password sign-in (ldap:// or ldaps://); unset: local accounts only",
    ),
    "ldap_user_dn": (
        "XIESHANG_LDAP_USER_DN",
        _with_username,
        "bind DN template, e.g. uid={username},ou=people,dc=example,dc=org (or search instead)",
    ),
    "ldap_search_base": (
        "XIESHANG_LDAP_SEARCH_BASE",
        lambda _n, v: v,
        "where to search for a person's entry when there is no bind DN template",
    ),
    "ldap_search_filter": (
        "XIESHANG_LDAP_SEARCH_FILTER",
        _with_username,
        "the search's filter; {username} is replaced (escaped)",
    ),
    "ldap_bind_dn": (
        "XIESHANG_LDAP_BIND_DN",
        lambda _n, v: _optional(v),
        "account the search binds as (unset: anonymous)",
    ),
    "ldap_bind_password": (
        "XIESHANG_LDAP_BIND_PASSWORD",
        lambda _n, v: _optional(v),
        "that account's password",
    ),
    "ldap_role_groups": (
        "XIESHANG_LDAP_ROLE_GROUPS",
        _role_groups,
        "JSON object of group DN to role; the first group a person is a member of gives the role",
    ),
    "ldap_default_role": (
        "XIESHANG_LDAP_DEFAULT_ROLE",
        lambda n, v: _role(n, v, ("leader", "member", "guest")),
        "role of directory people in no mapped group (unset: they get no account)",
    ),
    "ldap_timeout_seconds": (
        "XIESHANG_LDAP_TIMEOUT",
        lambda n, v: _int(n, v, 1, 60),
        "seconds each LDAP step may take before the directory counts as unreachable",
    ),
    "web_dir": ("XIESHANG_WEB_DIR", lambda _n, v: Path(v), "folder of the static web front end"),
}


def _default_web_dir() -> Path:
    checkout = Path(__file__).resolve().parent.parent / "web"
    if checkout.is_dir():
        return checkout
    spec = importlib.util.find_spec("xieshang_web")  # installed from a wheel
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return checkout


def _check_sign_in(values: dict[str, Any]) -> None:
    """Settings that only make sense together."""
    if values.get("oidc_issuer") and not values.get("oidc_client_id"):
        raise ConfigError("XIESHANG_OIDC_CLIENT_ID must be set with XIESHANG_OIDC_ISSUER")
    if values.get("ldap_url") and not (
        values.get("ldap_user_dn") or values.get("ldap_search_base")
    ):
        raise ConfigError(
            "XIESHANG_LDAP_URL needs XIESHANG_LDAP_USER_DN or XIESHANG_LDAP_SEARCH_BASE"
        )


@dataclass(frozen=True, kw_only=True)
class Config:
    """Every setting of a running server; build it with :meth:`from_env`."""

    db_url: str = DEFAULT_DB_URL
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    redis_url: str | None = dataclasses.field(default=None, repr=False)  # may hold a password
    redis_channel: str = "xieshang"
    token_ttl_hours: int = 12
    max_body_bytes: int = 2**20
    max_attachment_bytes: int = 20 * 2**20
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    smtp_url: str | None = dataclasses.field(default=None, repr=False)  # may hold a password
    mail_dir: Path = Path("var/mail")
    mail_from: str = "xieshang@localhost"
    smtp_timeout_seconds: int = 20
    mail_concurrency: int = 6
    secret_key: str | None = dataclasses.field(default=None, repr=False)
    previous_secret_keys: tuple[str, ...] = dataclasses.field(default=(), repr=False)
    secret_file: Path = Path("var/secret.key")
    conflict_buffer_minutes: int = 0
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    room_command_rate: int = 10
    room_command_burst: int = 20
    guest_joins_per_window: int = 10
    guest_join_window_seconds: int = 600
    api_rate: int = 20
    api_burst: int = 100
    login_failures_per_account: int = 5
    login_failures_per_address: int = 30
    login_window_seconds: int = 900
    trusted_proxies: tuple[str, ...] = ()
    room_idle_seconds: int = 600
    room_token_check_seconds: int = 5
    remind_seconds: int = 3600
    reply_days: int | None = None
    reply_working_days: int | None = None
    job_lock_seconds: int = 30
    ws_max_message_bytes: int = 64 * 1024
    ws_slow_client_bytes: int = 4 * 2**20
    # glibc gives each thread that allocates an arena of its own (up to eight per core), and
    # each keeps what it once held. Here the GIL already serializes most allocations, so the
    # database driver's threads' arenas cost memory and save no waiting: with one arena a room
    # connection costs a seventh less (bench/fanout).
    malloc_arenas: int = 1
    recording_dir: Path = Path("var/recordings")
    composite_budget_seconds: int = 600
    ice_servers: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    janus_urls: tuple[str, ...] = ()
    janus_api_secret: str | None = dataclasses.field(default=None, repr=False)
    janus_admin_key: str | None = dataclasses.field(default=None, repr=False)
    metrics_token: str | None = dataclasses.field(default=None, repr=False)
    mail_backlog_minutes: int = 15
    log_format: str = "text"
    during_modes: tuple[str, ...] = ("in_person", "hybrid")
    oidc_issuer: str | None = None
    oidc_client_id: str = ""
    oidc_client_secret: str | None = dataclasses.field(default=None, repr=False)
    oidc_claim: str = "preferred_username"
    oidc_name: str = ""
    oidc_create_role: str | None = None
    ldap_url: str | None = None
    ldap_user_dn: str | None = None
    ldap_search_base: str | None = None
    ldap_search_filter: str = "(uid={username})"
    ldap_bind_dn: str | None = None
    ldap_bind_password: str | None = dataclasses.field(default=None, repr=False)
    ldap_role_groups: tuple[tuple[str, str], ...] = ()
    ldap_default_role: str | None = None
    ldap_timeout_seconds: int = 5
    web_dir: Path = dataclasses.field(default_factory=_default_web_dir)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Read ``XIESHANG_*`` variables, then apply explicit overrides (CLI flags)."""
        source = os.environ if env is None else env
        values: dict[str, Any] = {}
        for field, (var, parse, _help) in _ENV.items():
            raw = source.get(var)
            if raw is not None and raw != "":
                values[field] = parse(var, raw)
        for field, value in overrides.items():
            if value is None:
                continue
            var, parse, _help = _ENV[field]
            values[field] = parse(f"--{field.replace('_', '-')}", str(value))
        if "public_url" not in values:
            values["public_url"] = listening_url(
                values.get("host", cls.host), values.get("port", cls.port)
            )
        _check_sign_in(values)
        return cls(**values)

    def passwords(self) -> Passwords:
        """The password hasher these settings describe."""
        return Passwords(time_cost=self.argon2_time_cost, memory_kib=self.argon2_memory_kib)

    def with_changes(self, **changes: Any) -> Config:
        """A copy with some settings replaced (tests and the CLI use this)."""
        return dataclasses.replace(self, **changes)


# Addresses that mean "every interface": a browser cannot reach them, so links use loopback.
_ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 - compared with, never bound


def listening_url(host: str, port: int) -> str:
    """The URL of the address ``serve`` listens on (the default public URL)."""
    if host in _ANY_ADDRESS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{port}"


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) rows, for the README and ``xieshang --help``."""
    defaults = Config()
    return [
        (var, str(getattr(defaults, field)), help_text)
        for field, (var, _parse, help_text) in _ENV.items()
    ]
