"""Shapes of audit entries as the API and the dossier show them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from server.shapes import OutShape


class AuditEntryOut(OutShape):
    """One act: who (id and name at the time), what, when, from where, on which object."""

    id: int
    at: dt.datetime
    actor_id: int | None
    actor: str
    address: str
    action: str
    object_type: str
    object_id: int | None
    session_id: int | None
    proposal_id: int | None
    detail: dict[str, Any]
