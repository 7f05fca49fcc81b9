"""A person's chosen language (``PATCH /api/me {"language"}``): the server's words to them when
a request names no language, and every email they get (invitations, counter answers, follow-up
reminders) and the RSVP pages its links open."""

from __future__ import annotations

import email
import urllib.parse
from email import policy
from email.message import EmailMessage

from sqlalchemy import select

from server.db import Database
from server.mail import OutboxMessage
from server.record.reminders import remind_overdue
from tests.conftest import ApiClient, Cast
from tests.server.sessions.test_sessions_api import create
from tests.server.test_jobs import seed_overdue

NO_LANGUAGE = {"Accept-Language": ""}


async def outbox_to(database: Database, recipient: str, method: str) -> list[EmailMessage]:
    """The messages queued for ``recipient`` with ``method``, parsed, oldest first."""
    async with database.read() as db:
        rows = await db.execute(
            select(OutboxMessage.message)
            .where(OutboxMessage.recipient == recipient, OutboxMessage.method == method)
            .order_by(OutboxMessage.id)
        )
        return [
            email.message_from_bytes(raw, policy=policy.default)  # type: ignore[misc]
            for raw in rows.scalars()
        ]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


async def test_a_person_chooses_their_language_and_it_is_kept(cast: Cast) -> None:
    me = await cast.member.get("/api/me")
    assert me.body["language"] == "zh-CN"  # the default
    chosen = await cast.member.patch("/api/me", {"language": "en"})
    assert chosen.status == 200 and chosen.body["language"] == "en"
    assert (await cast.member.get("/api/me")).body["language"] == "en"
    listed = (await cast.staff.get("/api/people?role=member")).body["items"]
    assert {p["username"]: p["language"] for p in listed}["member"] == "en"
    bad = await cast.member.patch("/api/me", {"language": "fr"}, headers=NO_LANGUAGE)
    assert bad.status == 400 and bad.body["errors"][0]["field"] == "language"
    assert (await cast.member.patch("/api/me", {"role": "staff"})).status == 400  # only settings
    assert (await cast.member.get("/api/me")).body["role"] == "member"
    audit = (await cast.staff.get("/api/audit?action=person.settings")).body["items"]
    assert [(a["object_id"], a["detail"]["language"]) for a in audit] == [
        (cast.ids["member"], "en")
    ]


async def test_a_request_without_a_language_gets_the_persons_and_a_header_comes_first(
    cast: Cast,
) -> None:
    forbidden = "/api/people"  # staff only
    assert (await cast.member.get(forbidden, headers=NO_LANGUAGE)).body["detail"] == (
        "只有提案委员会工作人员可以进行此操作。"
    )
    await cast.member.patch("/api/me", {"language": "en"})
    english = await cast.member.get(forbidden, headers=NO_LANGUAGE)
    assert english.body["detail"] == "Only committee staff may do this."
    assert english.body["title"] == "Forbidden"
    asked = await cast.member.get(forbidden, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert asked.body["detail"] == "只有提案委员会工作人员可以进行此操作。"  # the web sends its own
    neither = await cast.member.get(forbidden, headers={"Accept-Language": "fr-FR"})
    assert neither.body["detail"] == "Only committee staff may do this."  # none of ours: chosen
    back = await cast.member.patch("/api/me", {"language": "zh-CN"}, headers=NO_LANGUAGE)
    assert back.body["language"] == "zh-CN"
    assert chinese_detail(await cast.member.get(forbidden, headers=NO_LANGUAGE))


def chinese_detail(reply: object) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in reply.body["detail"])  # type: ignore[attr-defined]


async def test_invitations_are_written_in_each_recipients_language(
    cast: Cast, database: Database
) -> None:
    await cast.member.patch("/api/me", {"language": "en"})
    session = await create(cast)
    english = (await outbox_to(database, "member@example.org", "REQUEST"))[0]
    chinese = (await outbox_to(database, "unit@example.org", "REQUEST"))[0]
    assert english["Subject"] == f"Invitation: {session['title']}"
    body = text_of(english)
    assert body.startswith("Dear 张委员,\n\nYou are invited to: 老旧小区加装电梯办理协商")
    assert "Time: 2026-12-01 09:30 to 11:00 (Asia/Shanghai)" in body
    assert "Accept: " in body and "Decline: " in body and "Maybe: " in body
    assert '<html lang="en">' in html_of(english)
    assert not any(
        "\u4e00" <= c <= "\u9fff" for c in body.replace("张委员", "").replace(session["title"], "")
    )  # nothing else in Chinese
    assert chinese["Subject"] == f"邀请：{session['title']}"
    body = text_of(chinese)
    assert body.startswith("住建局 赵处长，您好：\n\n诚邀您参加：老旧小区加装电梯办理协商")
    assert "时间：2026年12月01日 09:30至11:00（Asia/Shanghai）" in body
    assert "接受: " in body and "谢绝: " in body
    assert '<html lang="zh-CN">' in html_of(chinese)

    # A cancellation, too; and the RSVP page its link opens is in the person's language.
    link = next(
        line.split(": ", 1)[1]
        for line in text_of(english).splitlines()
        if line.startswith("Accept")
    )
    path = urllib.parse.urlsplit(link)
    page = await cast.anon.get(f"{path.path}?{path.query}", headers={"Accept-Language": "zh-CN"})
    assert page.status == 200 and "<h1>Confirm your answer</h1>" in page.text
    assert "Confirm: accepted" in page.text and '<html lang="en">' in page.text
    done = await cast.anon.post(f"{path.path}?{path.query}")
    assert "Answer recorded: accepted" in done.text
    cancelled = await cast.staff.post(f"/api/sessions/{session['id']}/cancel", {"reason": "改期"})
    assert cancelled.status == 200, cancelled.text
    cancel = (await outbox_to(database, "member@example.org", "CANCEL"))[0]
    assert cancel["Subject"] == f"Cancelled: {session['title']}"
    assert "This session is cancelled" in text_of(cancel)
    assert "以下会议已取消" in text_of((await outbox_to(database, "unit@example.org", "CANCEL"))[0])


async def test_follow_up_reminders_are_written_in_each_recipients_language(
    cast: Cast, database: Database, anon: ApiClient
) -> None:
    await cast.unit.patch("/api/me", {"language": "en"})  # unit a; unit b keeps zh-CN
    session = await create(cast)
    await seed_overdue(database, session["id"], cast.unit_ids["a"], 1, "en")
    await seed_overdue(database, session["id"], cast.unit_ids["b"], 1, "zh")
    sent = await remind_overdue(database, None, zone="Asia/Shanghai", sender="tian@x.example")
    assert sent.reminded == 2
    english = (await outbox_to(database, "unit@example.org", "NOTICE"))[0]
    assert english["Subject"] == "Follow-up reminder: 事项 en-0 (overdue)"
    assert english["Content-Language"] == "en"
    body = text_of(english)
    assert body.startswith("Dear 住建局 赵处长,\n\nThis action item is past its due date")
    assert "  Item: 事项 en-0\n  Due: 2025-01-15" in body
    chinese = (await outbox_to(database, "unit2@example.org", "NOTICE"))[0]
    assert chinese["Subject"] == "督办提醒：事项 zh-0（已逾期）"
    assert chinese["Content-Language"] == "zh-CN"
    body = text_of(chinese)
    assert body.startswith("教育局 孙科长，您好：\n\n以下落实事项已超过完成时限")
    assert "  事项：事项 zh-0\n  完成时限：2025-01-15" in body
