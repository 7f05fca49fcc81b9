"""Reading proposals from a workbook another proposal system exported (pure; no database).

The first sheet's first row names the columns, in Chinese as such systems write them; each
column is recognised by any of its usual names (``COLUMNS``), so our own export
(``GET /api/proposals.xlsx``) reads back too. Columns nobody recognises are listed and ignored.
Every later non-empty row becomes a :class:`SheetRow`: its values, and what is wrong with each
cell on its own (a missing title, a date that is not one). Whether a unit or a person exists,
or a number is taken, the service checks against the database.

The work is bounded before it starts: the file's size (the route), the ZIP's directory and
unpacked size (a small .xlsx may unpack to gigabytes), and the number of rows and columns.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook

from server.i18n import Msg, _
from server.text import not_a_line, unstorable

MAX_ROWS = 2000  # data rows in one import
MAX_COLUMNS = 60
MAX_UNPACKED = 64 * 2**20  # bytes of the workbook's parts once unzipped
MAX_PARTS = 500

# field -> the column names that mean it (the first is ours, shown in messages and the template)
COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("案号", "编号", "提案号", "提案编号", "案 号"),
    "title": ("标题", "案由", "提案标题", "题目", "提案名称"),
    "proposers": ("提案人", "提案者", "第一提案人", "提出人"),
    "group_proposer": ("集体提案人", "提案单位", "集体提案单位"),
    "category": ("类别", "提案类别", "分类"),
    "lead_unit": ("主办单位", "承办单位"),
    "co_units": ("协办单位", "会办单位"),
    "submitted_on": ("提交日期", "提交时间", "提出日期", "立案日期"),
    "key": ("重点提案", "是否重点"),
    "summary": ("摘要", "内容", "提案内容", "内容摘要"),
}
REQUIRED = ("number", "title")
NUMBER = re.compile(r"[0-9]{4}-[0-9]{4}")
SEPARATORS = re.compile(r"[、,，;；/\n]+")
YES = frozenset({"是", "y", "yes", "true", "1", "√", "重点"})
NO = frozenset({"", "否", "n", "no", "false", "0"})
_DATE_TEXT = re.compile(
    r"\s*([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?"
    r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?\s*"
)
LIMITS = {"title": 200, "category": 50, "group_proposer": 100, "summary": 20_000}


class SheetError(ValueError):
    """The file as a whole cannot be read (not a workbook, no heading row, too big)."""

    def __init__(self, message: Msg | str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class SheetRow:
    """One data row: its 1-based row number in the sheet, values, and problems per field."""

    row: int
    number: str = ""
    title: str = ""
    proposers: list[str] = field(default_factory=list)
    group_proposer: str | None = None
    category: str | None = None
    lead_unit: str | None = None
    co_units: list[str] = field(default_factory=list)
    submitted_on: dt.date | None = None
    key: bool = False
    summary: str = ""
    errors: list[tuple[str, Msg | str]] = field(default_factory=list)

    def problem(self, field_name: str, message: Msg | str) -> None:
        self.errors.append((field_name, message))


@dataclass
class Sheet:
    """What the workbook holds: which column is which, those ignored, and the rows."""

    columns: dict[str, str]  # field -> the heading as written in the file
    ignored: list[str]
    rows: list[SheetRow]


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise SheetError(
            _("The file is not an Excel workbook (.xlsx); save it as .xlsx and send it again.")
        ) from None
    if len(parts) > MAX_PARTS or sum(p.file_size for p in parts) > MAX_UNPACKED:
        raise SheetError(
            _(
                "The workbook unpacks to more than {mib} MiB; import fewer rows at a time.",
                mib=MAX_UNPACKED // 2**20,
            )
        )


def _heading(value: Any) -> str:
    return re.sub(r"[\s*＊:：]", "", str(value)) if value is not None else ""


def _columns(heading: tuple[Any, ...]) -> tuple[dict[int, str], dict[str, str], list[str]]:
    lookup = {_heading(name): f for f, names in COLUMNS.items() for name in names}
    at: dict[int, str] = {}
    written: dict[str, str] = {}
    ignored: list[str] = []
    for i, value in enumerate(heading):
        name = _heading(value)
        found = lookup.get(name)
        if found is not None and found not in written:
            at[i], written[found] = found, str(value).strip()
        elif name:
            ignored.append(str(value).strip())
    missing = [COLUMNS[f][0] for f in REQUIRED if f not in written]
    if missing:
        raise SheetError(
            _(
                "The first row must name the columns; these are missing: {missing}. "
                "Recognised names: {known}.",
                missing=tuple(missing),
                known=tuple(names[0] for names in COLUMNS.values()),
            )
        )
    return at, written, ignored


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


def _date(row: SheetRow, value: Any) -> None:
    if value is None or value == "":
        return
    if isinstance(value, dt.datetime):
        row.submitted_on = value.date()
        return
    if isinstance(value, dt.date):
        row.submitted_on = value
        return
    match = _DATE_TEXT.fullmatch(str(value))
    try:
        if match is None:
            raise ValueError
        row.submitted_on = dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        row.problem(
            "submitted_on",
            _("{value} is not a date; write it like 2026-01-15", value=repr(_text(value))),
        )


def _line(row: SheetRow, name: str, text: str) -> str:
    reason = unstorable(text) if name == "summary" else not_a_line(text)
    if reason is not None:
        row.problem(name, reason)
        return ""
    if len(text) > LIMITS.get(name, 100):
        row.problem(name, _("longer than {limit} characters", limit=LIMITS.get(name, 100)))
    return text


def _names(row: SheetRow, name: str, text: str) -> list[str]:
    found = [n.strip() for n in SEPARATORS.split(text) if n.strip()]
    return [n for n in found if _line(row, name, n)][:50]


def _row(number: int, cells: dict[str, Any]) -> SheetRow:
    row = SheetRow(row=number)
    row.number = _text(cells.get("number"))
    if not row.number:
        row.problem("number", _("the proposal number is missing"))
    elif not NUMBER.fullmatch(row.number):
        row.problem(
            "number",
            _("{value} is not a proposal number like 2026-0123", value=repr(row.number[:40])),
        )
    row.title = _line(row, "title", _text(cells.get("title")))
    if not row.title and not any(f == "title" for f, _m in row.errors):
        row.problem("title", _("the title is missing"))
    row.proposers = _names(row, "proposers", _text(cells.get("proposers")))
    row.group_proposer = _line(row, "group_proposer", _text(cells.get("group_proposer"))) or None
    row.category = _line(row, "category", _text(cells.get("category"))) or None
    row.lead_unit = _line(row, "lead_unit", _text(cells.get("lead_unit"))) or None
    row.co_units = _names(row, "co_units", _text(cells.get("co_units")))
    _date(row, cells.get("submitted_on"))
    key = _text(cells.get("key")).lower()
    if key not in YES | NO:
        row.problem("key", _("write 是 or 否, not {value}", value=repr(key[:20])))
    row.key = key in YES
    row.summary = _line(row, "summary", _text(cells.get("summary")))
    return row


def read_sheet(data: bytes) -> Sheet:
    """The workbook's columns and rows, each row with its own problems (slow: run off the
    event loop)."""
    _check_zip(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged workbook
        raise SheetError(
            _("The workbook cannot be read; open it in Excel or WPS, save it as .xlsx again.")
        ) from None
    try:
        sheet = book.worksheets[0]
        values = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        heading = next(values, None)
        if heading is None:
            raise SheetError(_("The workbook's first sheet is empty."))
        at, written, ignored = _columns(heading)
        rows: list[SheetRow] = []
        for number, cells in enumerate(values, start=2):
            if all(c is None or str(c).strip() == "" for c in cells):
                continue
            if len(rows) == MAX_ROWS:
                raise SheetError(
                    _(
                        "The sheet has more than {limit} rows; import at most {limit} at a time.",
                        limit=MAX_ROWS,
                    )
                )
            rows.append(_row(number, {at[i]: c for i, c in enumerate(cells) if i in at}))
    finally:
        book.close()
    return Sheet(columns=written, ignored=ignored, rows=rows)
