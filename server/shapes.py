"""Shapes and checks shared by every layer, with no transport in them.

Request shapes (:class:`Shape`, :class:`QueryShape`), response shapes (:class:`OutShape`),
the field rules they raise (:class:`FieldProblem`) and the translation of pydantic's errors
into one :class:`~server.errors.Invalid` problem. Services and stores build and check these
too, so they live here rather than in :mod:`server.api` (aiohttp's side): a service never
imports the HTTP layer.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from typing import Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator

from scheduling.problems import Problem, Words
from server.errors import Invalid, field_error
from server.i18n import Msg, _, marked
from server.text import first_unstorable
from server.times import Day as Day  # re-exported: request shapes import them from here
from server.times import Instant as Instant

MAX_ID = 2**31 - 1  # ids are 32-bit integers on every database


@functools.cache
def known_timezones() -> frozenset[str]:
    """IANA zone names (a folder like "Asia" is not a zone)."""
    return frozenset(zoneinfo.available_timezones())


def _no_nul(value: Any, path: str = "") -> None:
    """Refuse text the database or JSON cannot store (NUL, lone surrogates) anywhere."""
    found = first_unstorable(value, path)
    if found is not None:
        raise FieldProblem(*found)


def pattern(regex: str, explanation: str) -> AfterValidator:
    """A string check whose error says in words what is expected."""
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(explanation)
        return value

    return AfterValidator(check)


class FieldProblem(ValueError):
    """A rule broken by one field, raised from a model validator so the problem names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class _Storable(BaseModel):
    """Refuses text the database or JSON cannot store, before any field is read."""

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        _no_nul(data)
        return data


class Shape(_Storable):
    """Base of request shapes: strict types, unknown fields refused, no NUL characters."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class QueryShape(_Storable):
    """Base of query-string shapes: strings are converted, unknown parameters refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


class OutShape(BaseModel):
    """Base of response shapes."""

    model_config = ConfigDict(from_attributes=True)


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(body)"


# Pydantic's errors in our words, marked for translation; ``{name}`` comes from the error's
# ``ctx``. Any other type keeps pydantic's English message.
_MESSAGES = {
    "extra_forbidden": _(
        "unknown field; remove it (see /api/openapi.json for the accepted fields)"
    ),
    "missing": _("this field is required"),
    "timezone_aware": _("give the time with an offset, like 2026-12-01T09:30:00+08:00"),
    "string_type": _("give a text (a JSON string)"),
    "int_type": _("give a whole number"),
    "int_parsing": _("give a whole number"),
    "int_from_float": _("give a whole number"),
    "float_type": _("give a number"),
    "float_parsing": _("give a number"),
    "bool_type": _("give true or false"),
    "bool_parsing": _("give true or false"),
    "list_type": _("give a list (a JSON array)"),
    "dict_type": _("give an object (a JSON object)"),
    "model_type": _("give an object (a JSON object)"),
    "model_attributes_type": _("give an object (a JSON object)"),
    "string_too_short": _("write at least {min_length} characters"),
    "string_too_long": _("write at most {max_length} characters"),
    "too_short": _("give at least {min_length} items"),
    "too_long": _("give at most {max_length} items"),
    "greater_than": _("give a number greater than {gt}"),
    "greater_than_equal": _("give a number of at least {ge}"),
    "less_than": _("give a number less than {lt}"),
    "less_than_equal": _("give a number of at most {le}"),
    "literal_error": _("give one of {expected}"),
    "enum": _("give one of {expected}"),
    "date_type": _("give a date like 2026-12-01"),
    "date_parsing": _("give a date like 2026-12-01"),
    "date_from_datetime_parsing": _("give a date like 2026-12-01"),
    "datetime_type": _("give a time like 2026-12-01T09:30:00+08:00"),
    "datetime_parsing": _("give a time like 2026-12-01T09:30:00+08:00"),
    "datetime_from_date_parsing": _("give a time like 2026-12-01T09:30:00+08:00"),
    "url_parsing": _("give a web address (URL)"),
    "url_scheme": _("give a web address (URL) starting with {expected_schemes}"),
}


def _message(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        template = _MESSAGES[kind]
        params = {k: v for k, v in ctx.items() if f"{{{k}}}" in template.msgid}
        if template.msgid.count("{") == len(params):  # every placeholder has its value
            return Msg(template.msgid, params)
    cause = ctx.get("error")
    if isinstance(cause, (ValueError, AssertionError)) and isinstance(
        cause.args[0] if cause.args else None, Msg
    ):  # a check that raised a marked message
        return cause.args[0]  # type: ignore[no-any-return]
    if isinstance(cause, (Problem, Words)):  # a scheduling rule, its words kept apart
        return marked(cause)  # type: ignore[no-any-return]
    # Any other of pydantic's types has only English words: say it in ours (``type`` still
    # names pydantic's error for programs).
    return _("this value cannot be used here")


def _entry(error: Any) -> dict[str, Any]:
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, FieldProblem):
        loc = (*tuple(error["loc"]), *cause.field.split("."))
        return field_error(_field_path(loc), cause.message, "rule")
    return field_error(_field_path(tuple(error["loc"])), _message(error), error["type"])


def validation_problem(exc: ValidationError, where: str | Msg) -> Invalid:
    """Turn a pydantic error into a problem that lists each field and what is wrong."""
    errors = [_entry(e) for e in exc.errors()]
    if any(e["type"] == "json_invalid" for e in exc.errors()):
        ctx = exc.errors()[0].get("ctx", {})
        return Invalid(
            _(
                "The request body is not valid JSON ({error}).",
                error=str(ctx.get("error", "parse error")),
            ),
            errors=[field_error("(body)", _("malformed JSON"), "json_invalid")],
        )
    summary = tuple(
        _("{field}: {message}", field=e["field"], message=e["message"]) for e in errors[:5]
    )
    if len(errors) > 5:
        return Invalid(
            _(
                "The {where} is not valid: {summary} (and {more} more).",
                where=where,
                summary=summary,
                more=len(errors) - 5,
            ),
            errors=errors,
        )
    return Invalid(
        _("The {where} is not valid: {summary}.", where=where, summary=summary), errors=errors
    )
