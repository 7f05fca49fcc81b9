"""Errors whose words a caller can show in another language.

The library writes its error texts in English with named parts, as ``str.format`` templates;
a :class:`Problem` keeps the template and the parts apart (``template``, ``params``), so the
server can look the template up in its message catalog and fill in the parts. ``str()`` of a
problem is the English text, as for any exception.
"""

from __future__ import annotations

from typing import Any


class Problem(ValueError):
    """A ``ValueError`` with an English ``template`` and its ``params``."""

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(_format(template, params))


def _format(template: str, params: dict[str, Any]) -> str:
    if not params:
        return template
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


class Words(str):
    """A piece of English text with named parts (a label, a reason) that goes into a problem's
    text; like :class:`Problem`, it keeps ``template`` and ``params`` for translation."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Words:
        self = super().__new__(cls, _format(template, params))
        self.template = template
        self.params = params
        return self
