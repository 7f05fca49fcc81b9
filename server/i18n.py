"""The server's messages in the reader's language (zh-CN by default, English on request).

Messages are written in English and marked with :func:`_`, which keeps the English text as the
gettext msgid and the parameters apart::

    raise NotFound(_("There is no proposal {id}.", id=proposal_id))

A marked message is a :class:`Msg`: a ``str`` whose value is the English text (so logs, tests
and code that reads ``err.message`` keep working), which also carries its msgid and
parameters. The edge (the aiohttp error middleware, the Socket.IO error decorator) translates it
with :func:`translate` into the language negotiated from ``Accept-Language``
(:func:`negotiate`), or for a signed-in person who sends none, the language they chose
(:func:`choose`). The catalog is ``server/locale/<lang>/LC_MESSAGES/messages.po``, read with
Babel when first needed (no compiled ``.mo`` to keep in step); ``make messages`` extracts the
marked texts into ``server/locale/messages.pot`` and updates the catalogs.

Unmarked strings (plain ``str``) pass through untranslated.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from scheduling.problems import Problem, Words

DEFAULT = "zh-CN"
ENGLISH = "en"
LANGUAGES = (DEFAULT, ENGLISH)
LOCALE_DIR = Path(__file__).with_name("locale")
_CATALOG_OF = {DEFAULT: "zh_CN"}


class Msg(str):
    """A marked message: the English text, with its msgid and parameters for translation."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, params: dict[str, Any]) -> Msg:
        self = super().__new__(cls, _format(msgid, params, ENGLISH))
        self.msgid = msgid
        self.params = params
        return self

    def __reduce__(self) -> Any:  # pickles (Redis, processes) as the marked message
        return (Msg, (self.msgid, self.params))


def _(msgid: str, **params: Any) -> Msg:
    """Mark ``msgid`` (English, with ``{name}`` placeholders) for translation."""
    return Msg(msgid, params)


def _format(text: str, params: dict[str, Any], language: str) -> str:
    if not params:
        return text
    values = {k: _value(v, language) for k, v in params.items()}
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):  # a broken translation must not become a 500
        return text


def marked(value: Any) -> Any:
    """A :mod:`scheduling` problem or piece of words (English templates with parts, see
    :mod:`scheduling.problems`) as a marked message, its parts too; anything else as it is."""
    if isinstance(value, (Problem, Words)):
        return Msg(value.template, {k: marked(v) for k, v in value.params.items()})
    return value


def _value(value: Any, language: str) -> Any:
    """A parameter in ``language``: a Msg (or a scheduling problem) translated, a tuple of them
    joined with "; " ("；")."""
    if isinstance(value, (Problem, Words)):
        value = marked(value)
    if isinstance(value, Msg):
        return translate(value, language)
    if isinstance(value, tuple):
        return ("; " if language == ENGLISH else "；").join(str(_value(v, language)) for v in value)
    return value


@functools.cache
def catalog(language: str) -> dict[str, str]:
    """msgid → translation for ``language`` (empty for English, the source language)."""
    name = _CATALOG_OF.get(language)
    if name is None:
        return {}
    from babel.messages.pofile import read_po

    with (LOCALE_DIR / name / "LC_MESSAGES" / "messages.po").open("rb") as po:
        read = read_po(po)
    return {
        str(m.id): str(m.string)
        for m in read
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


def translate(message: str, language: str) -> str:
    """``message`` in ``language``: a :class:`Msg` is looked up, any other text is kept."""
    if not isinstance(message, Msg):
        return message
    text = catalog(language).get(message.msgid, message.msgid)
    return _format(text, message.params, language)


_RANGE = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$"
)


def negotiate(accept_language: str | None) -> str:
    """The language to answer in: the first of ours the ``Accept-Language`` header prefers
    (``zh``, ``zh-CN``, ``zh-Hans`` → zh-CN; ``en``, ``en-GB`` → en); zh-CN when the header is
    absent, malformed or names none of them."""
    return asked(accept_language) or DEFAULT


def choose(accept_language: str | None, chosen: str | None) -> str:
    """The language to answer a known person in: what the request asks for (``Accept-Language``
    naming one of ours: the web sends its page's language), else the language the person chose,
    else zh-CN."""
    if (language := asked(accept_language)) is not None:
        return language
    return chosen if chosen in LANGUAGES else DEFAULT


def asked(accept_language: str | None) -> str | None:
    """The first of our languages the ``Accept-Language`` header prefers, or ``None`` when it
    is absent, malformed or names none of them."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:20]):
        match = _RANGE.match(part)
        if match is None:
            continue
        try:
            quality = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if quality <= 0:
            continue
        primary = match.group(1).split("-")[0].lower()
        language = {"zh": DEFAULT, "en": ENGLISH}.get(primary)
        if language is not None:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else None
