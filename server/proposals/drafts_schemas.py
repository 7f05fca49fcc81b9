"""Request and response shapes of members' drafts, co-signing and submission windows."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from server.directory.schemas import Id
from server.i18n import _
from server.proposals.schemas import CosignerOut, ProposalOut
from server.shapes import FieldProblem, OutShape, Shape
from server.times import Day

Year = Annotated[int, Field(ge=2000, le=2100)]


class CosignersIn(Shape):
    """The members the author invites to co-sign (the whole list: those left out are
    uninvited; those kept keep their answer)."""

    person_ids: Annotated[list[Id], Field(max_length=50)]

    @model_validator(mode="after")
    def _no_duplicates(self) -> Any:
        if len(set(self.person_ids)) != len(self.person_ids):
            raise FieldProblem("person_ids", _("lists the same id twice"))
        return self


class CosignIn(Shape):
    """An invited member's answer."""

    answer: Literal["accepted", "declined"]


class SubmitOut(ProposalOut):
    """The submitted proposal, with the co-signers dropped because they had not accepted."""

    dropped_cosigners: list[CosignerOut] = []
    message: str = ""  # what happened, in the reader's language


class WindowIn(Shape):
    """The days members may submit proposals in a year (the plenary session's dates)."""

    opens: Day
    closes: Day

    @model_validator(mode="after")
    def _in_order(self) -> WindowIn:
        if self.closes < self.opens:
            raise FieldProblem("closes", _("is before opens"))
        return self


class WindowOut(OutShape):
    """A year's submission window."""

    year: int
    opens: dt.date
    closes: dt.date
    open_now: bool  # whether today (the committee's) is inside it


class WindowList(OutShape):
    """Every year's window, newest first, and the committee's today."""

    items: list[WindowOut]
    today: dt.date
