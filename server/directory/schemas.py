"""Request and response shapes of the directory API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from server.api import MAX_ID, FieldProblem, OutShape, QueryShape, Shape, pattern
from server.auth import MIN_PASSWORD_LENGTH, Role
from server.names import plain_name

Name = Annotated[str, StringConstraints(min_length=1, max_length=100), plain_name]
Username = Annotated[
    str,
    pattern(
        r"[a-z0-9][a-z0-9_.-]{2,63}",
        "3 to 64 characters: lowercase letters, digits, '.', '_' or '-'",
    ),
]
Email = Annotated[
    str,
    StringConstraints(max_length=254),
    pattern(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an email address like name@example.org"),
]
Phone = Annotated[
    str,
    StringConstraints(max_length=32),
    pattern(
        r"\+?[0-9][0-9 -]{4,30}",
        "a phone number of digits, spaces or '-', optionally starting with +",
    ),
]
Password = Annotated[
    str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=256, strip_whitespace=False)
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


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

    @model_validator(mode="after")
    def _unit_accounts_need_a_unit(self) -> PersonCreate:
        if self.role is Role.UNIT and self.unit_id is None:
            raise FieldProblem("unit_id", "required for a unit account")
        return self


class PeopleQuery(QueryShape):
    """Filters for the people list."""

    role: Role | None = None
    unit_id: Id | None = None
    q: Annotated[str, StringConstraints(max_length=100)] | None = None


class PeopleList(OutShape):
    """People, newest last."""

    items: list[PersonOut]


class UnitCreate(Shape):
    """A new undertaking unit."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200), plain_name]
    contact_ids: Annotated[list[Id], Field(max_length=20)] = []


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

    name: Annotated[str, StringConstraints(min_length=1, max_length=200), plain_name]
    address: Annotated[str, StringConstraints(max_length=300)] | None = None
    capacity: Annotated[int, Field(ge=1, le=100_000)] | None = None


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
