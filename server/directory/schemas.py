"""Request and response shapes of the directory API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from server.auth import MIN_PASSWORD_LENGTH, Role
from server.i18n import _
from server.names import one_line
from server.password_rules import password_problem
from server.shapes import MAX_ID, FieldProblem, OutShape, QueryShape, Shape, pattern

Name = Annotated[str, StringConstraints(min_length=1, max_length=100), one_line]
Username = Annotated[
    str,
    pattern(
        r"[a-z0-9][a-z0-9_.-]{2,63}",
        _("3 to 64 characters: lowercase letters, digits, '.', '_' or '-'"),
    ),
]
Email = Annotated[
    str,
    StringConstraints(max_length=254),
    one_line,
    pattern(r"[^@\s]+@[^@\s]+\.[^@\s]+", _("an email address like name@example.org")),
]
Phone = Annotated[
    str,
    StringConstraints(max_length=32),
    pattern(
        r"\+?[0-9][0-9 -]{4,30}",
        _("a phone number of digits, spaces or '-', optionally starting with +"),
    ),
]
Password = Annotated[
    str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=256, strip_whitespace=False)
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# The languages a person may choose (server.i18n.LANGUAGES): their emails come in it.
Language = Literal["zh-CN", "en"]


class PersonBrief(OutShape):
    """A person as others see them."""

    id: int
    name: str
    role: Role
    unit_id: int | None


class PersonOut(OutShape):
    """A person's full record (staff and the person themselves)."""

    id: int
    username: str
    name: str
    email: str | None
    phone: str | None
    role: Role
    unit_id: int | None
    active: bool
    language: Language
    created_at: dt.datetime


class PersonCreate(Shape):
    """A new account."""

    username: Username
    name: Name
    role: Role
    email: Email | None = None
    phone: Phone | None = None
    unit_id: Id | None = None
    password: Password | None = None
    active: bool = True
    language: Language = "zh-CN"

    @model_validator(mode="after")
    def _unit_accounts_need_a_unit(self) -> PersonCreate:
        if self.role is Role.UNIT and self.unit_id is None:
            raise FieldProblem("unit_id", _("required for a unit account"))
        return self

    @model_validator(mode="after")
    def _password_is_not_guessable(self) -> PersonCreate:
        problem = password_problem(self.password, self.username) if self.password else None
        if problem is not None:
            raise FieldProblem("password", problem)
        return self


class PersonPatch(Shape):
    """Fields to change on an account; absent fields stay, ``null`` clears email, phone or
    unit. ``active: false`` deactivates it and a new ``password`` replaces the old one: both
    end every sign-in the person has."""

    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    role: Role | None = None
    unit_id: Id | None = None
    active: bool | None = None
    password: Password | None = None
    language: Language | None = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> PersonPatch:
        for required in ("name", "role", "active", "password", "language"):
            if required in self.model_fields_set and getattr(self, required) is None:
                raise FieldProblem(required, _("cannot be null"))
        return self


class MePatch(Shape):
    """What a person changes on their own account: the language their emails (and the server's
    words, when a request names none) come in."""

    language: Language


class PeopleQuery(QueryShape):
    """Filters for the people list."""

    role: Role | None = None
    unit_id: Id | None = None
    q: Annotated[str, StringConstraints(max_length=100)] | None = None


class MembersList(OutShape):
    """The committee's active members and leaders, by name (whom a member may invite to
    co-sign a proposal)."""

    items: list[PersonBrief]


class PeopleList(OutShape):
    """People, newest last."""

    items: list[PersonOut]


class UnitCreate(Shape):
    """A new undertaking unit."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200), one_line]
    contact_ids: Annotated[list[Id], Field(max_length=20)] = []


class UnitPatch(Shape):
    """A unit's new name or contact people (the whole list)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200), one_line] | None = None
    contact_ids: Annotated[list[Id], Field(max_length=20)] | None = None

    @model_validator(mode="after")
    def _name_stays_set(self) -> UnitPatch:
        if "name" in self.model_fields_set and self.name is None:
            raise FieldProblem("name", _("cannot be null"))
        return self


class UnitOut(OutShape):
    """An undertaking unit with its contact people."""

    id: int
    name: str
    contacts: list[PersonBrief]
    created_at: dt.datetime


class UnitList(OutShape):
    """All units by name."""

    items: list[UnitOut]


class VenueCreate(Shape):
    """A new venue."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200), one_line]
    address: Annotated[str, StringConstraints(max_length=300), one_line] | None = None
    capacity: Annotated[int, Field(ge=1, le=100_000)] | None = None


class VenuePatch(Shape):
    """A venue's new name, address or capacity; ``null`` clears address or capacity."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200), one_line] | None = None
    address: Annotated[str, StringConstraints(max_length=300), one_line] | None = None
    capacity: Annotated[int, Field(ge=1, le=100_000)] | None = None

    @model_validator(mode="after")
    def _name_stays_set(self) -> VenuePatch:
        if "name" in self.model_fields_set and self.name is None:
            raise FieldProblem("name", _("cannot be null"))
        return self


class VenueOut(OutShape):
    """A venue."""

    id: int
    name: str
    address: str | None
    capacity: int | None
    created_at: dt.datetime


class VenueList(OutShape):
    """All venues by name."""

    items: list[VenueOut]


class LoginIn(Shape):
    """Username and password."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[
        str, StringConstraints(min_length=1, max_length=256, strip_whitespace=False)
    ]


class LoginOut(OutShape):
    """A bearer token for the ``Authorization`` header, and who it is for."""

    token: str
    expires_at: dt.datetime
    person: PersonOut


class OidcButton(OutShape):
    """The organisation's OpenID Connect provider, as the sign-in page names it."""

    name: str


class SignInMethods(OutShape):
    """How people may sign in here: always a password; maybe the organisation's provider, and
    whether passwords are also checked against the organisation's directory (LDAP)."""

    oidc: OidcButton | None
    ldap: bool


class OidcStartOut(OutShape):
    """Where to send the browser to sign in with the organisation's provider."""

    url: str


class OidcFinishIn(Shape):
    """What the provider sent the browser back with (the query of ``/login/oidc``)."""

    state: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    code: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None
    error: Annotated[str, StringConstraints(max_length=100)] | None = None
    error_description: Annotated[str, StringConstraints(max_length=500)] | None = None
