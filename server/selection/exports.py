"""A selection round as documents: a workbook (.xlsx: the ranking, then every reviewer's
sheet) and a Word document (.docx, laid out like the minutes: ``record.exports``). Pure: the
ranking in, bytes out."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from server.record.exports import lines_to_docx
from server.selection.schemas import RankingOut
from server.selection.service import Sheet

STATUS = {"open": "评审中", "published": "已公布"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # text a spreadsheet would run as a formula


def _text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _heading(sheet: Worksheet, names: Sequence[str], widths: Sequence[int]) -> None:
    sheet.append(list(names))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"


def _rank(rank: int | None, tied: bool) -> str:
    if rank is None:
        return "未评分"
    return f"{rank}（并列）" if tied else str(rank)


def to_xlsx(out: RankingOut, sheets: Sequence[Sheet]) -> bytes:
    """Sheet 排名 (one row per candidate, best first) and sheet 评分明细 (one row per score)."""
    book = Workbook()
    ranking = book.active
    assert ranking is not None
    ranking.title = "排名"
    names = [f"{c.name}（权重{c.weight}，满分{c.max}）" for c in out.criteria]
    _heading(
        ranking,
        ["名次", "案号", "标题", "加权得分", *names, "已评分人数", "未评分评审", "入选"],
        [10, 12, 40, 10, *[16] * len(names), 10, 24, 8],
    )
    for r in out.rows:
        ranking.append(
            [
                _rank(r.rank, r.tied),
                r.number,
                _text(r.title),
                r.score,
                *r.criteria,
                r.scored_by,
                _text("、".join(r.not_scored_by)),
                "是" if r.chosen else "",
            ]
        )
    detail = book.create_sheet("评分明细")
    _heading(
        detail,
        ["评审", "案号", "标题", *[c.name for c in out.criteria], "加权得分"],
        [14, 12, 40, *[12] * len(out.criteria), 10],
    )
    for s in sheets:
        detail.append([_text(s.reviewer), s.number, _text(s.title), *s.scores, s.weighted])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _lines(out: RankingOut) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = [("title", out.title)]
    lines.append(("field", f"年度：{out.year}年"))
    lines.append(("field", f"状态：{STATUS[out.status.value]}"))
    criteria = "；".join(f"{c.name}（权重 {c.weight}，满分 {c.max}）" for c in out.criteria)
    lines.append(("field", f"评选标准：{criteria}"))
    reviewers = "、".join(f"{r.name}（已评 {r.scored} 件）" for r in out.reviewers)
    lines.append(("field", f"评审：{reviewers}"))
    chosen = [r for r in out.rows if r.chosen]
    if chosen:
        lines.append(("heading", "入选名单"))
        lines += [("item", f"{k}. {r.number} {r.title}") for k, r in enumerate(chosen, start=1)]
    lines.append(("heading", "评分排名"))
    for r in out.rows:
        score = f"{r.score:.2f} 分" if r.score is not None else "尚无评分"
        missing = f"；未评分：{'、'.join(r.not_scored_by)}" if r.not_scored_by else ""
        lines.append(("item", f"{_rank(r.rank, r.tied)}　{r.number} {r.title}：{score}{missing}"))
    lines.append(("footer", "加权得分 = 100 × Σ(权重 × 得分 ÷ 满分) ÷ Σ权重，取已评分评审的平均"))
    return lines


def to_docx(out: RankingOut) -> bytes:
    """The round as a Word document: the chosen list first, then the whole ranking."""
    return lines_to_docx(out.title, _lines(out))
