"""Importing proposals from another system's .xlsx: a dry run previews each row with its
problems in the reader's language; the real run adds the good rows in one transaction; broken
files are refused with nothing written; our own export reads back."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import Workbook

from tests.conftest import ApiClient, Cast
from tests.server.proposals.test_proposals_api import create

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADING = ["案号", "标题", "提案人", "类别", "主办单位", "协办单位", "提交日期", "备注"]


def workbook(rows: list[list[Any]], heading: list[str] = HEADING) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(heading)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ROWS: list[list[Any]] = [
    [
        "2026-0101",
        "关于推进垃圾分类的建议",
        "张委员",
        "城乡建设",
        "市住房和城乡建设局",
        "市教育局",
        dt.date(2026, 1, 15),
        "x",
    ],
    ["2026-0102", "关于社区食堂的建议", "张委员、陈委员", "民生", "市民政局", None, None, None],
    ["2026-0001", "案号已占用", "张委员", None, None, None, None, None],
    ["2026-0104", "日期不对", "陈委员", None, None, None, "2026-13-45", None],
    ["2026-0105", None, "陈委员", None, None, None, None, None],
    [None, None, None, None, None, None, None, None],  # blank: skipped
    ["2026-0107", "重复一", "陈委员", None, None, None, None, None],
    ["2026-0107", "重复二", "陈委员", None, None, None, None, None],
    ["2026-0103", "关于民营经济的建议", "民盟市委会", "经济", None, None, "2026/2/3", None],
    ["26-1", "案号格式不对", "王五、张委员", None, None, None, None, None],
]


async def post(client: ApiClient, data: bytes, dry_run: str = "true", **kw: Any) -> Any:
    headers = {"Content-Type": XLSX, **kw.pop("headers", {})}
    return await client.request(
        "POST",
        f"/api/proposals/import?dry_run={dry_run}",
        data=io.BytesIO(data),
        headers=headers,
        **kw,
    )


async def numbers(cast: Cast) -> list[str]:
    return [p["number"] for p in (await cast.staff.get("/api/proposals")).body["items"]]


async def test_a_preview_lists_each_rows_problems_then_the_good_rows_are_imported(
    cast: Cast,
) -> None:
    await create(cast, "2026-0001")
    data = workbook(ROWS)
    preview = await post(cast.staff, data)
    assert preview.status == 200, preview.text
    body = preview.body
    assert (body["dry_run"], body["total"], body["good"], body["bad"], body["imported"]) == (
        True,
        9,
        2,
        7,
        0,
    )
    assert body["ignored_columns"] == ["备注"]
    problems = {r["row"]: [(e["field"], e["message"]) for e in r["errors"]] for r in body["rows"]}
    assert problems[2] == []
    assert problems[3] == [("lead_unit", "there is no unit named 市民政局")]
    assert problems[4] == [("number", "proposal number 2026-0001 is taken")]
    assert problems[5] == [("submitted_on", "'2026-13-45' is not a date; write it like 2026-01-15")]
    assert problems[6] == [("title", "the title is missing")]
    assert [f for f, _m in problems[8]] == ["number"] and problems[8] == problems[9]
    assert problems[10] == []
    assert [f for f, _m in problems[11]] == ["number", "proposers"]
    group = next(r for r in body["rows"] if r["row"] == 10)
    assert (group["group_proposer"], group["proposers"], group["submitted_on"]) == (
        "民盟市委会",
        [],
        "2026-02-03",
    )
    zh = await post(cast.staff, data, headers={"Accept-Language": "zh-CN"})
    zh_problems = {r["row"]: r["errors"] for r in zh.body["rows"]}
    assert zh_problems[3][0]["message"] == "没有名为 市民政局 的单位"
    assert zh_problems[3][0]["column"] == "主办单位"
    assert await numbers(cast) == ["2026-0001"]  # a preview writes nothing

    done = await post(cast.staff, data, "false")
    assert done.status == 200, done.text
    assert (done.body["dry_run"], done.body["imported"]) == (False, 2)
    assert await numbers(cast) == ["2026-0001", "2026-0101", "2026-0103"]
    first = next(r for r in done.body["rows"] if r["row"] == 2)
    imported = (await cast.staff.get(f"/api/proposals/{first['proposal_id']}")).body
    assert imported["status"] == "submitted"
    assert imported["lead_unit_id"] == cast.unit_ids["a"]
    assert imported["co_unit_ids"] == [cast.unit_ids["b"]]
    assert [p["name"] for p in imported["proposers"]] == ["张委员"]
    assert imported["history"][0]["note"] == "导入"
    assert imported["created_at"].startswith("2026-01-15T04:00:00")  # noon in Shanghai

    again = await post(cast.staff, data, "false")  # every row is now bad: nothing happens
    assert again.status == 400
    assert "No row can be imported" in again.body["detail"]
    assert await numbers(cast) == ["2026-0001", "2026-0101", "2026-0103"]


async def test_broken_files_and_strangers_are_refused_clearly(cast: Cast) -> None:
    not_xlsx = await post(cast.staff, b"PK\x03\x04 this is no workbook")
    assert not_xlsx.status == 400 and "not an Excel workbook" in not_xlsx.body["detail"]
    no_title = await post(cast.staff, workbook([["2026-0001"]], heading=["案号", "摘要"]))
    assert no_title.status == 400 and "missing: 标题" in no_title.body["detail"]
    zh = await post(
        cast.staff,
        workbook([["2026-0001"]], heading=["案号"]),
        headers={"Accept-Language": "zh-CN"},
    )
    assert "缺少这些列：标题" in zh.body["detail"]
    wrong_type = await cast.staff.request(
        "POST",
        "/api/proposals/import?dry_run=true",
        data=workbook(ROWS),
        headers={"Content-Type": "text/csv"},
    )
    assert wrong_type.status == 400
    as_bytes = await post(
        cast.staff, workbook(ROWS), headers={"Content-Type": "application/octet-stream"}
    )
    assert as_bytes.status == 200 and as_bytes.body["total"] == 9  # a browser's unknown file
    assert (await post(cast.unit, workbook(ROWS))).status == 403
    assert (await post(cast.member, workbook(ROWS), "false")).status == 403
    assert (await post(cast.staff, workbook(ROWS), "maybe")).status == 400
    too_big = await post(cast.staff, b"PK" + b"\0" * (6 * 2**20))
    assert too_big.status == 413
    too_many = await post(
        cast.staff, workbook([[f"2026-{i:04d}", "标题", "张委员"] for i in range(1, 2002)])
    )
    assert too_many.status == 400 and "more than 2000 rows" in too_many.body["detail"]
    assert await numbers(cast) == []


async def test_our_own_export_reads_back(cast: Cast) -> None:
    await create(cast, "2026-0001", co_unit_ids=[cast.unit_ids["b"]])
    await create(cast, "2026-0002", proposer_ids=[], group_proposer="民盟市委会")
    _status, exported, _headers = await cast.staff.download("/api/proposals.xlsx")
    preview = (await post(cast.staff, exported)).body
    assert preview["columns"]["number"] == "编号"
    rows = preview["rows"]
    assert [(r["number"], r["lead_unit"], r["co_units"]) for r in rows] == [
        ("2026-0001", "市住房和城乡建设局", ["市教育局"]),
        ("2026-0002", "市住房和城乡建设局", []),
    ]
    assert rows[1]["group_proposer"] == "民盟市委会"
    assert [[e["field"] for e in r["errors"]] for r in rows] == [["number"], ["number"]]
