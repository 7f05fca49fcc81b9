"""The proposal list as a spreadsheet (.xlsx) for staff to work from offline."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from server.proposals.lifecycle import COMMITTEE_ZONE, Status, reply_overdue
from server.proposals.schemas import ProposalOut

STATUS_WORDS = {
    Status.SUBMITTED: "已提交",
    Status.FILED: "已立案",
    Status.ASSIGNED: "已交办",
    Status.HANDLING: "办理中",
    Status.REPLIED: "已答复",
    Status.EVALUATED: "已评价",
    Status.CLOSED: "已办结",
    Status.REJECTED: "不予立案",
    Status.DRAFT: "草稿",
    Status.CONVERTED: "转为意见",
}
STAGE_WORDS = {"before": "办前", "during": "办中", "after": "办后"}
VERDICT_WORDS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
HEADINGS = (
    ("编号", 12),
    ("标题", 40),
    ("提案人", 20),
    ("类别", 12),
    ("重点提案", 8),
    ("状态", 10),
    ("主办单位", 24),
    ("协办单位", 24),
    ("答复期限", 12),
    ("答复逾期", 8),
    ("缺少的协商阶段", 14),
    ("评价", 10),
    ("更新时间", 18),
)
# A cell that starts with one of these is a formula to a spreadsheet program: text from the
# registry (a title like "=HYPERLINK(...)") must stay text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _row(p: ProposalOut, units: Mapping[int, str], today: dt.date) -> list[object]:
    proposers = "、".join(
        [x.name for x in p.proposers] + ([p.group_proposer] if p.group_proposer else [])
    )
    return [
        p.number or "",
        _text(p.title),
        _text(proposers),
        _text(p.category or ""),
        "是" if p.key else "",
        STATUS_WORDS[p.status],
        _text(units.get(p.lead_unit_id, "")) if p.lead_unit_id else "",
        _text("、".join(units.get(u, str(u)) for u in p.co_unit_ids)),
        p.reply_due,
        "是" if reply_overdue(p.status, p.reply_due, today) else "",
        "、".join(STAGE_WORDS[s] for s in p.compliance.missing),
        VERDICT_WORDS.get(p.evaluation or "", p.evaluation or ""),
        p.updated_at.astimezone(COMMITTEE_ZONE).replace(tzinfo=None),  # xlsx has no zones,
    ]


def to_xlsx(proposals: Sequence[ProposalOut], units: Mapping[int, str], today: dt.date) -> bytes:
    """One sheet, a heading row then one row per proposal, in the list's order."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "提案"
    sheet.append([name for name, _ in HEADINGS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, (_, width) in enumerate(HEADINGS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    for p in proposals:
        sheet.append(_row(p, units, today))
    for cell in sheet["I"][1:]:
        cell.number_format = "yyyy-mm-dd"
    for cell in sheet["M"][1:]:
        cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
