"""Password sign-in against the organisation's LDAP directory (ldap3, an outside-world client).

ldap3 is synchronous: each sign-in runs in a worker thread, with a connect and a receive
timeout, so a slow or absent directory never stalls the event loop. A person is found either
by a bind DN template (``uid={username},ou=people,dc=example,dc=org``) or by a search (under a
base, with a filter, as a service account or anonymously); the password is checked by binding
as that DN. Their role comes from the first configured group they are a member of.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

with warnings.catch_warnings():
    # ldap3 2.9 reads pyasn1's old names (tagMap), which warn when imported; nothing to fix here.
    warnings.simplefilter("ignore", DeprecationWarning)
    import ldap3
    from ldap3.core.exceptions import LDAPException
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import escape_rdn

from server.auth import Role
from server.errors import Unavailable
from server.i18n import _

log = logging.getLogger(__name__)
RETRY_SECONDS = 30
_ATTRIBUTES = ("cn", "displayName", "mail")


@dataclass(frozen=True, kw_only=True)
class LdapSettings:
    """Where the directory is and how people and their groups are found in it."""

    url: str
    user_dn: str | None = None  # template with {username}
    search_base: str | None = None
    search_filter: str = "(uid={username})"
    bind_dn: str | None = None
    bind_password: str | None = None
    role_groups: tuple[tuple[str, Role], ...] = ()  # (group DN, role), first match wins
    default_role: Role | None = None
    timeout: int = 5


@dataclass(frozen=True, kw_only=True)
class DirectoryPerson:
    """Someone the directory vouched for: their entry and the role their groups give."""

    dn: str
    name: str | None
    email: str | None
    role: Role | None


class DirectoryUnreachable(Unavailable):
    """The directory did not answer; local accounts still sign in."""

    code = "ldap_unreachable"

    def __init__(self) -> None:
        super().__init__(
            _(
                "The organisation's directory (LDAP) cannot be reached just now, so directory "
                "accounts cannot sign in; try again later. Local accounts still sign in."
            ),
            retry_after=RETRY_SECONDS,
        )


def _first(entry: Any, attribute: str) -> str | None:
    values = entry[attribute].values if attribute in entry else []
    text = str(values[0]).strip() if values else ""
    return text or None


class Directory:
    """Checks a username and password against the directory; one connection per sign-in."""

    def __init__(self, settings: LdapSettings) -> None:
        self.settings = settings

    @contextmanager
    def _bound(self, user: str | None, password: str | None) -> Iterator[ldap3.Connection | None]:
        """A connection bound as ``user`` (``None`` when the directory refuses the password);
        closed afterwards whatever happened."""
        # A new Server each time: ldap3 remembers an address that failed and never tries it again.
        server = ldap3.Server(
            self.settings.url, connect_timeout=self.settings.timeout, get_info=ldap3.NONE
        )
        connection = ldap3.Connection(
            server,
            user=user,
            password=password,
            receive_timeout=self.settings.timeout,
            read_only=True,
            raise_exceptions=False,
        )
        try:
            yield connection if connection.bind() else None
        finally:
            connection.unbind()
            if connection.socket is not None:  # ldap3 leaves a socket that failed to connect
                connection.socket.close()

    def _find_dn(self, username: str) -> str | None:
        """The DN to bind as: from the template, or the single entry the search finds."""
        settings = self.settings
        if settings.user_dn:
            return settings.user_dn.format(username=escape_rdn(username))
        assert settings.search_base is not None  # the config requires one of the two
        with self._bound(settings.bind_dn, settings.bind_password) as searcher:
            if searcher is None:
                log.warning("ldap: the search account could not bind")
                return None
            query = settings.search_filter.format(username=escape_filter_chars(username))
            searcher.search(settings.search_base, query, attributes=["1.1"], size_limit=2)
            found = [entry.entry_dn for entry in searcher.entries]
        return found[0] if len(found) == 1 else None

    def _role(self, connection: ldap3.Connection, dn: str) -> Role | None:
        member = escape_filter_chars(dn)
        for group, role in self.settings.role_groups:
            query = f"(|(member={member})(uniqueMember={member}))"
            if connection.search(group, query, search_scope=ldap3.BASE, attributes=["1.1"]):
                return role
        return self.settings.default_role

    def _check(self, username: str, password: str) -> DirectoryPerson | None:
        dn = self._find_dn(username)
        if dn is None:
            return None
        with self._bound(dn, password) as person:
            if person is None:
                return None
            person.search(dn, "(objectClass=*)", ldap3.BASE, attributes=list(_ATTRIBUTES))
            entry = person.entries[0] if person.entries else None
            return DirectoryPerson(
                dn=dn,
                name=(_first(entry, "displayName") or _first(entry, "cn")) if entry else None,
                email=_first(entry, "mail") if entry else None,
                role=self._role(person, dn),
            )

    def check_now(self, username: str, password: str) -> DirectoryPerson | None:
        """The directory's word on these credentials (blocking): the person, or ``None``."""
        if not username or not password:  # an empty password is an anonymous bind: never
            return None
        try:
            return self._check(username, password)
        except LDAPException as exc:
            log.warning("ldap: %s unreachable: %s", self.settings.url, exc)
            raise DirectoryUnreachable() from None

    async def check(self, username: str, password: str) -> DirectoryPerson | None:
        """:meth:`check_now` in a worker thread, bounded by the settings' timeouts."""
        limit = self.settings.timeout * 4 + 1  # find, bind, read, groups: each bounded
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self.check_now, username, password), limit
            )
        except TimeoutError:
            log.warning("ldap: %s did not answer in %s s", self.settings.url, limit)
            raise DirectoryUnreachable() from None
