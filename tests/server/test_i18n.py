"""The server answers in the reader's language: zh-CN by default, English on request.

Problem details (HTTP), the field messages of a validation problem, Socket.IO refusal acks and
connection refusals; and every message marked in server/ has its zh-CN translation.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir

from server.i18n import Msg, _, catalog, negotiate, translate
from tests.conftest import ApiClient

SERVER = Path(__file__).resolve().parents[2] / "server"
HAN = range(0x4E00, 0xA000)


def chinese(text: str) -> bool:
    return any(ord(c) in HAN for c in text)


def marked_messages() -> set[str]:
    """Every msgid marked with ``_`` in server/, as ``make messages`` extracts them."""
    found = extract_from_dir(
        str(SERVER), method_map=[("**.py", "python")], keywords={"_": None}, comment_tags=()
    )
    return {message for _file, _line, message, _comments, _context in found if message}


def marked_in_source() -> set[str]:
    """Every literal first argument of a ``_(...)`` call in server/, read by Python itself."""
    found = set()
    for path in SERVER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "_"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value)
    return found


def test_the_extraction_finds_every_marked_message() -> None:
    """``make messages`` (Babel) sees what Python sees: no mark hidden from the extractor (a
    parenthesised string, say), and no ``_(f"...")`` (its text would never match)."""
    assert marked_messages() == marked_in_source()
    for path in SERVER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_":
                assert node.args and isinstance(node.args[0], ast.Constant), (
                    f"{path}:{node.lineno}: mark a literal English text"
                )


def test_every_marked_message_has_a_zh_cn_translation() -> None:
    marked = marked_messages()
    assert len(marked) > 20  # the extraction found the marks
    missing = sorted(m for m in marked if m not in catalog("zh-CN"))
    assert missing == [], "untranslated (run `make messages` and translate):\n" + "\n".join(missing)


def test_every_translation_keeps_the_placeholders_of_its_message() -> None:
    placeholders = string.Formatter()
    for msgid, text in catalog("zh-CN").items():
        wanted = {name for _l, name, _s, _c in placeholders.parse(msgid) if name}
        got = {name for _l, name, _s, _c in placeholders.parse(text) if name}
        assert wanted == got, (msgid, text)
        words = re.sub(r"\{[^}]*\}", "", msgid)
        if re.search(r"[A-Za-z]{2}", words):  # not only placeholders and punctuation
            assert chinese(text), (msgid, text)


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR,en;q=0.5", "en"),
        ("en;q=0.4,zh;q=0.8", "zh-CN"),
        ("fr, de", "zh-CN"),
        ("en;q=0", "zh-CN"),
        ("*", "zh-CN"),
        (";;;,q=,en;q=abc", "zh-CN"),
    ],
)
def test_the_language_is_negotiated_from_accept_language(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_a_marked_message_is_english_text_and_translates_with_its_parameters() -> None:
    message = _("{field}: {message}", field="title", message=_("this field is required"))
    assert isinstance(message, Msg)
    assert message == "title: this field is required"
    assert translate(message, "en") == "title: this field is required"
    assert translate(message, "zh-CN") == "title：此项必填"
    assert translate("plain text", "zh-CN") == "plain text"


async def test_an_http_problem_is_in_chinese_by_default_and_english_on_request(
    anon: ApiClient,
) -> None:
    for header in ({"Accept-Language": ""}, {"Accept-Language": "zh-CN,zh;q=0.9"}):
        reply = await anon.get("/api/no-such-route", headers=header)
        assert reply.status == 404
        assert reply.body["detail"] == "没有这个页面或接口。"
        assert reply.body["title"] == "未找到"
        assert reply.body["code"] == "not_found"  # codes stay as they are
    english = await anon.get("/api/no-such-route", headers={"Accept-Language": "en"})
    assert english.body["detail"] == "No such page or API route."
    assert english.body["title"] == "Not Found"


async def test_a_validation_problem_names_the_field_in_the_readers_language(
    anon: ApiClient,
) -> None:
    chinese_reply = await anon.post(
        "/api/auth/login", {"username": "x"}, headers={"Accept-Language": "zh-CN"}
    )
    assert chinese_reply.status == 400
    fields = {e["field"]: e["message"] for e in chinese_reply.body["errors"]}
    assert fields == {"password": "此项必填"}
    assert chinese_reply.body["title"] == "请求有误"
    assert "password：此项必填" in chinese_reply.body["detail"]
    assert chinese(chinese_reply.body["detail"])
    english = await anon.post(
        "/api/auth/login", {"username": "x"}, headers={"Accept-Language": "en"}
    )
    fields = {e["field"]: e["message"] for e in english.body["errors"]}
    assert fields == {"password": "this field is required"}
    assert (
        english.body["detail"] == "The request body is not valid: password: this field is required."
    )


# scheduling/ writes its error texts as templates, the first argument of these (Makefile's
# SCHEDULING_PROBLEMS, scheduling/problems.py); the server translates them for the reader.
SCHEDULING = SERVER.parent / "scheduling"
PROBLEM_KEYWORDS = ("Words", "CalendarDataError", "ItipError", "RecurrenceError", "RuleError")


def scheduling_messages() -> set[str]:
    keywords: dict[str, Any] = {k: None for k in (*PROBLEM_KEYWORDS, "TooComplex")}
    found = extract_from_dir(
        str(SCHEDULING), method_map=[("**.py", "python")], keywords=keywords, comment_tags=()
    )
    return {message for _file, _line, message, _comments, _context in found if message}


def test_every_parser_and_rule_problem_of_scheduling_has_a_zh_cn_translation() -> None:
    marked = scheduling_messages()
    assert len(marked) > 40  # the extraction found the templates
    missing = sorted(m for m in marked if m not in catalog("zh-CN"))
    assert missing == [], "untranslated (run `make messages` and translate):\n" + "\n".join(missing)


def test_no_scheduling_problem_is_written_as_an_f_string() -> None:
    """An f-string's text would never match its catalog entry: problems take a template."""
    for path in SCHEDULING.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
                *PROBLEM_KEYWORDS,
                "TooComplex",
            ):
                assert not (node.args and isinstance(node.args[0], ast.JoinedStr)), (
                    f"{path}:{node.lineno}: write a template with named parts"
                )


@pytest.mark.parametrize(
    ("language", "detail", "field_message"),
    [
        (
            "zh-CN",
            "无法读取工作日历：days_off[0]：'2027-13-01' 不是 2026-10-01 这样的日期。",
            "days_off[0]：'2027-13-01' 不是 2026-10-01 这样的日期",
        ),
        (
            "en",
            "The working-day calendar cannot be read: days_off[0]: '2027-13-01' is not a "
            "date like 2026-10-01.",
            "days_off[0]: '2027-13-01' is not a date like 2026-10-01",
        ),
    ],
)
async def test_a_parser_problem_in_an_upload_reaches_the_reader_in_their_language(
    cast: Any, language: str, detail: str, field_message: str
) -> None:
    notice = {
        "format": "xieshang-workdays/1",
        "year": 2027,
        "days_off": [{"date": "2027-13-01", "name": "元旦"}],
        "extra_workdays": [],
    }
    reply = await cast.staff.request(
        "PUT", "/api/workdays/2027", json=notice, headers={"Accept-Language": language}
    )
    assert reply.status == 400
    assert reply.body["detail"] == detail
    assert reply.body["errors"][0]["message"] == field_message


async def test_an_ics_and_a_recurrence_problem_are_in_the_readers_language(cast: Any) -> None:
    garbage = {"data": b"BEGIN:VCALENDAR\r\nx", "headers": {"Content-Type": "text/calendar"}}
    chinese_reply = await cast.staff.request(
        "PUT", "/api/workdays/2027", **{**garbage, "headers": {**garbage["headers"], **ZH}}
    )
    assert chinese_reply.body["detail"].startswith("无法读取工作日历：不是 iCalendar 文件：")
    english = await cast.staff.request("PUT", "/api/workdays/2027", **garbage)
    assert english.body["detail"].startswith(
        "The working-day calendar cannot be read: not an iCalendar file: "
    )
    from tests.server.sessions.test_sessions_api import session_body

    body = session_body(cast, recurrence={"rrule": "FREQ=WEEKLY"}, allow_conflicts=True)
    never = await cast.staff.post("/api/sessions", body, headers=ZH)
    fields = {e["field"]: e["message"] for e in never.body["errors"]}
    assert fields["recurrence.rrule"] == "规则没有结束：请加上 COUNT 或 UNTIL（至多 200 次）"
    english = await cast.staff.post("/api/sessions", body)
    fields = {e["field"]: e["message"] for e in english.body["errors"]}
    assert fields["recurrence.rrule"] == (
        "the rule never ends: add COUNT or UNTIL (at most 200 occurrences)"
    )


ZH = {"Accept-Language": "zh-CN"}


async def test_codes_in_messages_are_named_in_words(cast: Any) -> None:
    """A mode, a role: in words of the reader's language, never as the code."""
    from tests.server.sessions.test_sessions_api import session_body

    body = session_body(cast, mode="in_person", venue_id=None, allow_conflicts=True)
    english = await cast.staff.post("/api/sessions", body)
    fields = {e["field"]: e["message"] for e in english.body["errors"]}
    assert (
        fields["venue_id"] == "required for a session held in person (only remote ones have none)"
    )
    chinese_reply = await cast.staff.post("/api/sessions", body, headers=ZH)
    fields = {e["field"]: e["message"] for e in chinese_reply.body["errors"]}
    assert "面对面" in fields["venue_id"] and "in_person" not in fields["venue_id"]
    wrong_role = session_body(
        cast,
        participants=[
            {"person_id": cast.ids["staff"], "role": "host"},
            {"person_id": cast.ids["unit"], "role": "proposer"},
        ],
        allow_conflicts=True,
    )
    english = await cast.staff.post("/api/sessions", wrong_role)
    messages = [e["message"] for e in english.body["errors"]]
    assert "住建局 赵处长 has a undertaking unit account and cannot take part as proposer" in (
        messages
    )
    chinese_reply = await cast.staff.post("/api/sessions", wrong_role, headers=ZH)
    text = " ".join(e["message"] for e in chinese_reply.body["errors"])
    assert "承办单位" in text and "提案人" in text and "proposer" not in text


def test_a_pydantic_error_without_words_of_ours_is_still_in_the_readers_language() -> None:
    """pydantic's own messages are English only: one of its types we have no words for is
    said in ours (``type`` still names it), never passed on in English."""
    from pydantic import BaseModel, ValidationError

    from server.errors import problem_body
    from server.shapes import validation_problem

    class Odd(BaseModel):
        tags: set[int]
        ratio: float

    try:
        Odd.model_validate({"tags": "x", "ratio": float("inf")})
    except ValidationError as exc:
        problem = validation_problem(exc, _("request body"))
    errors = problem_body(400, "invalid", problem.message, "zh-CN", errors=problem.errors)["errors"]
    assert {e["field"]: e["type"] for e in errors} == {"tags": "set_type"}
    assert all(chinese(e["message"]) for e in errors), errors
    english = problem_body(400, "invalid", problem.message, "en", errors=problem.errors)
    assert english["errors"][0]["message"] == "this value cannot be used here"
