"""The two-way evaluation's setup (双向评议): staff's weighted criteria for the proposer's
evaluation of the handling and for the unit's rating of the proposal, and whether co-signers
evaluate too. Staff replace the whole setup at once; everyone signed in (but guests) reads it,
since the evaluation forms show the criteria."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import service as audit
from server.auth import Principal, require_not_guest, require_staff
from server.db import Database, utcnow
from server.proposals import store
from server.proposals.handling_schemas import (
    CriterionOut,
    EvaluationSettingsIn,
    EvaluationSettingsOut,
)
from server.proposals.models import EvaluationCriterion, EvaluationKind, EvaluationSettings


async def _read(db: AsyncSession) -> EvaluationSettingsOut:
    rows = await store.criteria(db)
    settings = await store.evaluation_settings(db)
    return EvaluationSettingsOut(
        handling=[
            CriterionOut.model_validate(c) for c in rows if c.kind is EvaluationKind.HANDLING
        ],
        quality=[CriterionOut.model_validate(c) for c in rows if c.kind is EvaluationKind.QUALITY],
        cosigners_evaluate=settings is not None and settings.cosigners_evaluate,
        updated_at=settings.updated_at if settings else None,
    )


async def get_settings(database: Database, actor: Principal) -> EvaluationSettingsOut:
    """The criteria by kind and the co-signers setting."""
    require_not_guest(actor)
    async with database.read() as db:
        return await _read(db)


async def put_settings(
    database: Database, actor: Principal, body: EvaluationSettingsIn
) -> EvaluationSettingsOut:
    """Staff replace the criteria and the co-signers setting (evaluations already given keep
    the criteria they were scored on)."""
    require_staff(actor)
    now = utcnow()
    async with database.transaction() as db:
        settings = await store.evaluation_settings(db, lock=True)
        if settings is None:
            settings = EvaluationSettings(id=1, cosigners_evaluate=False, updated_at=now)
            await store.add(db, settings)
        settings.cosigners_evaluate, settings.updated_at = body.cosigners_evaluate, now
        await store.replace_criteria(
            db,
            [
                EvaluationCriterion(kind=kind, position=i, name=c.name, weight=c.weight, max=c.max)
                for kind, listed in (
                    (EvaluationKind.HANDLING, body.handling),
                    (EvaluationKind.QUALITY, body.quality),
                )
                for i, c in enumerate(listed)
            ],
        )
        await audit.record(
            db,
            "evaluation.settings",
            actor=actor,
            object_type="evaluation_settings",
            handling=len(body.handling),
            quality=len(body.quality),
            cosigners_evaluate=body.cosigners_evaluate,
        )
        return await _read(db)
