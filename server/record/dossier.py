"""A proposal's handling file (办理档案): everything about it, across all its sessions.

The proposal and its 1+N bundle, every session of the bundle with the approved minutes'
excerpt about it (notes, decisions, action items), the unit's replies, progress reports,
evaluations, follow-ups and their state, and one timeline of all of it in time order. Only
approved minutes enter the file. Anyone who may see the proposal may read its dossier.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, Literal

from server.audit import service as audit
from server.audit.schemas import AuditEntryOut
from server.auth import Principal
from server.db import Database
from server.proposals import service as proposals
from server.proposals.compliance import FACE_TO_FACE
from server.proposals.handling_schemas import HandlingOut
from server.proposals.lifecycle import Status
from server.proposals.schemas import ProposalOut
from server.record import followups, instructions, store
from server.record.exports import KINDS, MODES, lines_to_docx
from server.record.minutes import approved_excerpts
from server.record.schemas import FollowUpOut, InstructionOut, MinutesItem
from server.sessions import service as sessions
from server.shapes import OutShape


class BundleMember(OutShape):
    """A proposal of the bundle."""

    id: int
    number: str
    title: str
    status: Status
    lead: bool


class MinutesExcerpt(OutShape):
    """What a session's approved minutes say about the proposal."""

    version: int
    approved_at: dt.datetime
    hash: str
    items: list[MinutesItem]


class DossierSession(OutShape):
    """A session of the proposal (or of its bundle)."""

    id: int
    title: str
    kind: str
    stage: str | None
    mode: str
    status: str
    starts_at: dt.datetime
    via_proposal_id: int
    minutes: MinutesExcerpt | None


class TimelineEntry(OutShape):
    """One thing that happened, for the timeline."""

    at: dt.datetime
    kind: Literal[
        "transition",
        "session",
        "minutes",
        "reply",
        "progress",
        "evaluation",
        "follow_up",
        "instruction",
    ]
    summary: str
    # What it is about: the session's, reply's, report's, evaluation's or follow-up's id; for a
    # transition its place (from 0) in the proposal's ``history``, so a page can say it in words.
    ref: int | None


class DossierOut(OutShape):
    """The whole handling file of one proposal."""

    proposal: ProposalOut
    bundle: list[BundleMember]
    sessions: list[DossierSession]
    handling: HandlingOut
    follow_ups: list[FollowUpOut]
    instructions: list[InstructionOut] = []  # leaders' instructions (批示), oldest first
    timeline: list[TimelineEntry]
    # The audit trail of the proposal and its sessions (staff and leaders only; else null).
    audit: list[AuditEntryOut] | None = None


async def dossier(
    database: Database,
    actor: Principal,
    proposal_id: int,
    zone: str,
    during_modes: frozenset[str] = FACE_TO_FACE,
) -> DossierOut:
    """The dossier of a proposal the actor may see (``during_modes``: the modes that count for
    the ``during`` stage)."""
    read = proposals.CountedSessions(sessions.sessions_of_proposals, during_modes)
    async with database.read() as db:
        found = await proposals.proposal_file(db, actor, proposal_id, read)
        # Only what the reader may see of the bundle: its sessions, and its proposals' items.
        held = [s for s in found.sessions if await sessions.is_visible(db, s["id"], actor)]
        excerpts = await approved_excerpts(db, [s["id"] for s in held], found.group)
        follow_rows, _ = await store.search_follow_ups(
            db, {"proposal_ids": sorted(found.readable)}, 10_000, 0
        )
        written = await instructions.instructions_of(db, [proposal_id])
        trail = None
        if actor.reads_everything:
            rows = await audit.entries(
                db, proposal_id=proposal_id, session_ids=[s["id"] for s in held], limit=2000
            )
            trail = [AuditEntryOut.model_validate(r) for r in reversed(rows)]
    day = followups.today(zone)
    follow = [followups.follow_up_out(r, day) for r in follow_rows]
    out, handled = found.proposal, found.handling
    listed = [
        DossierSession(
            id=s["id"],
            title=s["title"],
            kind=s["kind"],
            stage=s["stage"],
            mode=s["mode"],
            status=s["status"],
            starts_at=s["starts_at"],
            via_proposal_id=s["via"],
            minutes=MinutesExcerpt.model_validate(excerpts[s["id"]])
            if s["id"] in excerpts
            else None,
        )
        for s in held
    ]
    return DossierOut(
        proposal=out,
        bundle=[BundleMember.model_validate(m, from_attributes=True) for m in found.bundle],
        sessions=listed,
        handling=handled,
        follow_ups=follow,
        instructions=written,
        timeline=_timeline(out, listed, handled, follow, written),
        audit=trail,
    )


def _timeline(
    proposal: ProposalOut,
    sessions: list[DossierSession],
    handled: HandlingOut,
    follow: list[FollowUpOut],
    written: list[InstructionOut],
) -> list[TimelineEntry]:
    entries: list[dict[str, Any]] = []
    for place, h in enumerate(proposal.history):
        entries.append(
            {
                "at": h.at,
                "kind": "transition",
                "summary": f"{h.from_status or '—'} → {h.to_status}"
                + (f"（{h.note}）" if h.note else ""),
                "ref": place,
            }
        )
    for s in sessions:
        entries.append(
            {
                "at": s.starts_at,
                "kind": "session",
                "summary": f"{s.title}（{s.status}）",
                "ref": s.id,
            }
        )
        if s.minutes:
            entries.append(
                {
                    "at": s.minutes.approved_at,
                    "kind": "minutes",
                    "summary": f"{s.title}：会议纪要第 {s.minutes.version} 版批准",
                    "ref": s.id,
                }
            )
    for r in handled.replies:
        entries.append(
            {"at": r.at, "kind": "reply", "summary": f"第 {r.round} 轮答复", "ref": r.id}
        )
    for p in handled.progress:
        entries.append(
            {
                "at": p.at,
                "kind": "progress",
                "summary": f"{p.milestone}（{p.percent}%）",
                "ref": p.id,
            }
        )
    for e in handled.evaluations:
        entries.append(
            {
                "at": e.at,
                "kind": "evaluation",
                "summary": f"{'提案人评价' if e.kind.value == 'handling' else '单位评价提案'}："
                f"{VERDICTS_ZH.get(e.verdict, e.verdict)}",
                "ref": e.id,
            }
        )
    for f in follow:
        entries.append(
            {
                "at": f.created_at,
                "kind": "follow_up",
                "summary": f"督办：{f.text}（{f.status}）",
                "ref": f.id,
            }
        )
    for i in written:
        entries.append(
            {"at": i.at, "kind": "instruction", "summary": f"{i.leader}批示：{i.text}", "ref": i.id}
        )
    # An instruction comes before the follow-up it becomes (they share their instant).
    entries.sort(key=lambda e: (e["at"], e["kind"] != "instruction", e["kind"]))
    return [TimelineEntry.model_validate(e) for e in entries]


STATUS_ZH = {
    "draft": "草稿",
    "submitted": "已提交",
    "filed": "已立案",
    "assigned": "已交办",
    "handling": "办理中",
    "replied": "已答复",
    "evaluated": "已评价",
    "closed": "已办结",
    "rejected": "不予立案",
    "converted": "转为意见",
}
REPLY_CLASSES_ZH = {
    "A": "已解决或采纳",
    "B": "正在解决或列入计划",
    "C": "因条件限制暂缓",
    "D": "留作参考",
}
VERDICTS_ZH = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "unsatisfied": "不满意",
    "high": "高",
    "medium": "中",
    "low": "低",
}
STAGES_ZH = {"before": "办前", "during": "办中", "after": "办后"}
SESSION_ZH = {"scheduled": "未开始", "live": "进行中", "ended": "已举行", "cancelled": "已取消"}


def _zh(status: Status | None) -> str:
    return STATUS_ZH.get(status.value, status.value) if status else ""


def to_docx(d: DossierOut, zone: str) -> bytes:
    """The dossier as a Word document."""
    tz = zoneinfo.ZoneInfo(zone)

    def day(value: dt.datetime) -> str:
        local = value.astimezone(tz)
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"

    p = d.proposal
    lines: list[tuple[str, str]] = [
        ("title", f"提案办理档案：{p.number or '（未编号）'} {p.title}")
    ]
    lines.append(
        ("field", f"状态：{STATUS_ZH.get(p.status.value, p.status.value)}（第 {p.round} 轮）")
    )
    lines.append(
        ("field", f"提案人：{'、'.join(x.name for x in p.proposers) or p.group_proposer or '无'}")
    )
    public = {True: "同意", False: "不同意", None: "未说明"}[p.public]
    lines.append(("field", f"是否同意公开：{public}"))
    if p.situation:
        lines.append(("heading", "现状与问题"))
        lines.append(("para", p.situation))
    if p.suggestions:
        lines.append(("heading", "建议"))
        lines += [("item", f"{i}. {s}") for i, s in enumerate(p.suggestions, 1)]
    c = p.compliance
    missing = "、".join(STAGES_ZH[m] for m in c.missing) or "无"
    lines.append(
        (
            "field",
            f"协商情况：办前 {c.before} 次，办中 {c.during} 次，办后 {c.after} 次；缺少：{missing}",
        )
    )
    if len(d.bundle) > 1:
        lines.append(("heading", "并案（1+N）"))
        for m in d.bundle:
            lines.append(("item", f"{m.number} {m.title}" + ("（主办）" if m.lead else "")))
    if p.summary:
        lines.append(("heading", "提案内容"))
        lines += [("para", x) for x in p.summary.splitlines() if x.strip()]
    lines.append(("heading", "协商活动"))
    for s in d.sessions:
        stage = STAGES_ZH.get(s.stage or "", "")
        how = "，".join(
            x for x in (KINDS.get(s.kind, s.kind), MODES.get(s.mode, s.mode), stage) if x
        )
        lines.append(("sub", f"{day(s.starts_at)} {s.title}（{how}）"))
        if s.minutes is None:
            lines.append(("para", "会议纪要尚未批准。"))
            continue
        for item in s.minutes.items:
            lines.append(("para", f"议题：{item.title}"))
            lines += [("para", x) for x in item.notes.splitlines() if x.strip()]
            lines += [("item", f"议定事项：{x}") for x in item.decisions]
            lines += [
                ("item", f"落实事项：{a.text}" + (f"（{a.owner_unit}）" if a.owner_unit else ""))
                for a in item.actions
            ]
    lines.append(("heading", "办理与评价"))
    for r in d.handling.replies:
        lines.append(("sub", f"第 {r.round} 轮答复（{day(r.at)}）"))
        lines += [("para", x) for x in r.text.splitlines() if x.strip()]
        lines += [
            (
                "item",
                f"建议 {i.suggestion}：{i.reply_class.value} 类"
                f"（{REPLY_CLASSES_ZH[i.reply_class.value]}）{i.text}"
                + (f"，承诺 {i.due.isoformat()} 前完成" if i.due else ""),
            )
            for i in r.items
        ]
        lines += [("item", f"附件：{a.name}") for a in r.attachments]
    for g in d.handling.progress:
        lines.append(("item", f"{day(g.at)} 进展：{g.milestone}（{g.percent}%）{g.text}"))
    for e in d.handling.evaluations:
        who = "提案人评价办理" if e.kind.value == "handling" else "承办单位评价提案质量"
        lines.append(
            ("item", f"{day(e.at)} {who}：{VERDICTS_ZH.get(e.verdict, e.verdict)} {e.comment}")
        )
    if d.instructions:
        lines.append(("heading", "领导批示"))
        for i in d.instructions:
            due = f"，时限 {i.due.isoformat()}" if i.due else ""
            lines.append(("item", f"{day(i.at)} {i.leader}：{i.text}{due}"))
    if d.follow_ups:
        lines.append(("heading", "督办事项"))
        for f in d.follow_ups:
            due = f"，时限 {f.due.isoformat()}" if f.due else ""
            state = {"open": "未完成", "done": "已完成", "cancelled": "已取消"}[f.status.value]
            lines.append(("item", f"{f.text}（{state}{due}{'，已逾期' if f.overdue else ''}）"))
    lines.append(("heading", "大事记"))
    lines += [("item", f"{day(t.at)} {t.summary}") for t in d.timeline]
    if d.audit:
        lines.append(("heading", "审计记录"))
        for a in d.audit:
            target = f"{a.object_type} {a.object_id or ''}"
            lines.append(("item", f"{day(a.at)} {a.actor}（{a.address}）{a.action} {target}"))
    return lines_to_docx(f"提案办理档案 {p.number}", lines)
