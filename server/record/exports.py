"""Minutes as documents: Word (.docx, the usual layout of Chinese meeting minutes), Markdown
and a print-friendly HTML page. Pure: a version of the minutes in, bytes or text out.

Layout: the title, then 时间, 地点, 主持人, 出席, 列席, 缺席 (and 旁听 for guests of a public
session), a summary, then each agenda item with its proposals, notes, 议定事项 (decisions),
落实事项 (action items: owner unit, due date) and who spoke; polls and questions; and at the
end the version, its status and its hash, so a printed copy can be checked against the chain.
Every piece of text from users is escaped for HTML and Markdown.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from server.record.schemas import Attendee, MinutesOut

KINDS = {
    "handling": "办理协商",
    "quarterly_talk": "季谈会",
    "livelihood_hall": "民生议政厅",
    "micro": "微协商",
}
MODES = {"in_person": "面对面", "remote": "屏对屏", "hybrid": "线上线下结合"}
ROLES = {
    "host": "主持人",
    "proposer": "提案人",
    "unit": "承办单位",
    "leader": "领导",
    "member": "委员",
    "guest": "来宾",
}
ATTENDANCE = {"in_person": "现场", "remote": "远程"}
STATUS = {"draft": "草稿", "in_review": "审核中", "approved": "已批准"}
NUMERALS = "一二三四五六七八九十"
FONT = "SimSun"  # 宋体; LibreOffice substitutes an installed CJK font


def _numeral(n: int) -> str:
    if n <= 10:
        return NUMERALS[n - 1]
    if n < 20:
        return "十" + NUMERALS[n - 11]
    tens, ones = divmod(n, 10)
    return NUMERALS[tens - 1] + "十" + (NUMERALS[ones - 1] if ones else "")


def when(out: MinutesOut) -> str:
    """``2026年12月1日 09:30—11:00`` in the session's time zone."""
    zone = zoneinfo.ZoneInfo(out.content.timezone)
    start = out.content.starts_at.astimezone(zone)
    end = out.content.ends_at.astimezone(zone)
    day = f"{start.year}年{start.month}月{start.day}日"
    if end.date() == start.date():
        return f"{day} {start:%H:%M}—{end:%H:%M}"
    return f"{day} {start:%H:%M}—{end.year}年{end.month}月{end.day}日 {end:%H:%M}"


def _clock(value: dt.datetime | None, zone: str) -> str:
    return value.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%H:%M") if value else ""


def person(a: Attendee, zone: str) -> str:
    """``张委员（提案人，现场，09:31—10:58）``."""
    bits = [
        ROLES.get(a.role or "", a.role or ""),
        a.unit or "",
        ATTENDANCE.get(a.attendance or "", ""),
    ]
    if a.since:
        bits.append(f"{_clock(a.since, zone)}—{_clock(a.until, zone)}")
    shown = "，".join(b for b in bits if b)
    return f"{a.name}（{shown}）" if shown else a.name


def people(attendees: Iterable[Attendee], zone: str) -> str:
    return "、".join(person(a, zone) for a in attendees) or "无"


THRESHOLD_WORDS = {
    "zh-CN": {
        "none": "不设通过门槛",
        "majority_of_votes": "赞成票超过投票人数的一半",
        "majority_of_present": "赞成票超过实到人数的一半",
        "two_thirds": "赞成票达到投票人数的三分之二",
    },
    "en": {
        "none": "no threshold",
        "majority_of_votes": "more than half of the votes cast in favour",
        "majority_of_present": "more than half of those present in favour",
        "two_thirds": "two thirds of the votes cast in favour",
    },
}


def poll_outcome(poll: Mapping[str, Any], language: str = "zh-CN") -> str:
    """A closed poll's result in words: 应到 / 实到 / 投票, whether the quorum (more than half of
    the eligible present) and the threshold were met (empty for polls from before quorums)."""
    if poll.get("quorum_met") is None:
        return ""
    zh = language != "en"
    e, p, v = poll.get("eligible"), poll.get("present"), poll.get("voted")
    numbers = (
        f"应到 {e} 人，实到 {p} 人，投票 {v} 人" if zh else f"eligible {e}, present {p}, voted {v}"
    )
    if poll["quorum_met"]:
        quorum = (
            "达到法定人数（过半数应到人员出席）" if zh else "quorum met (more than half present)"
        )
    else:
        quorum = (
            "未达到法定人数（须过半数应到人员出席）"
            if zh
            else "quorum not met (more than half must be present)"
        )
    rule = THRESHOLD_WORDS["zh-CN" if zh else "en"][poll.get("threshold") or "none"]
    if poll.get("passed") is None:
        verdict = f"{rule}，仅计票" if zh else f"{rule}: counted only"
    elif poll["passed"]:
        verdict = f"{rule}，已通过" if zh else f"{rule}: passed"
    else:
        verdict = f"{rule}，未通过" if zh else f"{rule}: not passed"
    secret = ("无记名投票" if zh else "secret ballot") if poll.get("secret") else ""
    parts = [p for p in (secret, numbers, quorum, verdict) if p]
    return ("；" if zh else "; ").join(parts) + ("。" if zh else ".")


def _speaking(entries: list[Any]) -> str:
    return "、".join(f"{e.name} {e.seconds // 60}分{e.seconds % 60:02d}秒" for e in entries)


def _lines(out: MinutesOut, titles: dict[int, str]) -> list[tuple[str, str]]:
    """The document as (kind, text) lines: title, field, heading, sub, para, item, footer."""
    c, zone = out.content, out.content.timezone
    lines: list[tuple[str, str]] = [("title", f"{c.title}会议纪要")]
    lines.append(("field", f"类型：{KINDS[c.kind.value]}（{MODES[c.mode.value]}）"))
    lines.append(("field", f"时间：{when(out)}"))
    lines.append(("field", f"地点：{c.place or ('线上' if c.mode.value == 'remote' else '未定')}"))
    lines.append(("field", f"主持人：{'、'.join(c.hosts) or '无'}"))
    lines.append(("field", f"出席：{people(c.present, zone)}"))
    lines.append(("field", f"列席：{people(c.attending, zone)}"))
    lines.append(("field", f"缺席：{people(c.absent, zone)}"))
    if c.guests:
        lines.append(("field", f"旁听：{people(c.guests, zone)}"))
    if c.summary:
        lines.append(("heading", "会议概况"))
        lines += [("para", p) for p in c.summary.splitlines() if p.strip()]
    for n, item in enumerate(c.items, start=1):
        lines.append(("heading", f"{_numeral(n)}、{item.title}"))
        if item.proposal_ids:
            names = "；".join(titles.get(i, f"提案 {i}") for i in item.proposal_ids)
            lines.append(("para", f"关联提案：{names}"))
        if item.speakers:
            lines.append(("para", f"发言：{'、'.join(item.speakers)}"))
        if item.speaking:
            lines.append(("para", f"发言时长：{_speaking(item.speaking)}"))
        lines += [("para", p) for p in item.notes.splitlines() if p.strip()]
        if item.decisions:
            lines.append(("sub", "议定事项"))
            lines += [("item", f"{k}. {d}") for k, d in enumerate(item.decisions, start=1)]
        if item.actions:
            lines.append(("sub", "落实事项"))
            for k, a in enumerate(item.actions, start=1):
                bits = [f"责任单位：{a.owner_unit}" if a.owner_unit else ""]
                bits.append(
                    f"完成时限：{a.due.year}年{a.due.month}月{a.due.day}日" if a.due else ""
                )
                if a.proposal_id:
                    bits.append(f"提案：{titles.get(a.proposal_id, a.proposal_id)}")
                extra = "；".join(b for b in bits if b)
                lines.append(("item", f"{k}. {a.text}" + (f"（{extra}）" if extra else "")))
    if c.polls:
        lines.append(("heading", "现场表决"))
        for poll in c.polls:
            counts = poll.results or []
            tally = "，".join(
                f"{o} {counts[i] if i < len(counts) else 0} 票" for i, o in enumerate(poll.options)
            )
            words = poll_outcome(poll.model_dump())
            lines.append(("item", f"{poll.question}：{tally}" + (f"。{words}" if words else "")))
            if poll.ballots:
                size = len(poll.options)
                named = "；".join(
                    f"{b.name}：{'、'.join(poll.options[i] for i in b.choices if i < size)}"
                    for b in poll.ballots
                )
                lines.append(("para", f"记名表决：{named}"))
    if c.speaking:
        lines.append(("heading", "发言时长"))
        lines.append(("para", _speaking(c.speaking)))
    if c.consent:
        lines.append(("heading", "录制知情确认"))
        for answer in c.consent:
            word = "已确认" if answer.answer == "accepted" else "不同意（未发送音视频）"
            lines.append(("item", f"{answer.name}：{word}，{_clock(answer.at, zone)}"))
    if c.questions:
        lines.append(("heading", "提问"))
        for q in c.questions:
            lines.append(("item", f"{q.name}：{q.text}" + ("（已答复）" if q.answered else "")))
    lines.append(
        (
            "footer",
            f"第 {out.version} 版 · {STATUS[out.status.value]} · "
            f"{out.created_at.astimezone(zoneinfo.ZoneInfo(zone)):%Y-%m-%d %H:%M} · "
            f"校验码 {out.hash[:16]}",
        )
    )
    return lines


# How each kind of line reads in Markdown and in HTML (``{}``: its escaped text).
MARKDOWN = {
    "title": "# {}\n",
    "heading": "\n## {}\n",
    "sub": "\n**{}**\n",
    "footer": "\n---\n\n*{}*\n",
    "item": "- {}",
}
HTML = {
    "title": "<h1>{}</h1>",
    "heading": "<h2>{}</h2>",
    "sub": "<h3>{}</h3>",
    "item": "<li>{}</li>",
    "footer": '<p class="footer">{}</p>',
}


def to_markdown(out: MinutesOut, titles: dict[int, str]) -> str:
    """Markdown; user text is escaped so it cannot add links, images or HTML."""
    parts = [
        MARKDOWN.get(kind, "{}\n").format(md_escape(text)) for kind, text in _lines(out, titles)
    ]
    return "\n".join(parts).rstrip() + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


def md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def to_html(out: MinutesOut, titles: dict[int, str]) -> str:
    """A print-friendly page (A4, serif CJK fonts); no scripts, all text escaped."""
    body = []
    items_open = False
    for kind, text in _lines(out, titles):
        if (kind == "item") != items_open:  # a run of items is one plain list
            body.append('<ol class="plain">' if kind == "item" else "</ol>")
            items_open = kind == "item"
        if kind == "field":
            label, _, value = text.partition("：")
            body.append(f'<p class="field"><b>{html.escape(label)}：</b>{html.escape(value)}</p>')
        else:
            body.append(HTML.get(kind, "<p>{}</p>").format(html.escape(text)))
    if items_open:
        body.append("</ol>")
    title = html.escape(f"{out.content.title}会议纪要")
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>"
        "@page{size:A4;margin:25mm 20mm}"
        "body{font-family:'Noto Serif CJK SC','Source Han Serif SC',SimSun,serif;"
        "line-height:1.8;max-width:46em;margin:2em auto;padding:0 1em;color:#111}"
        "h1{text-align:center;font-size:1.6em;margin-bottom:1.2em}"
        "h2{font-size:1.15em;margin-top:1.6em}h3{font-size:1em}"
        ".field{margin:.2em 0}.plain{list-style:none;padding-left:1em}"
        ".footer{margin-top:3em;color:#555;font-size:.85em;border-top:1px solid #ccc;"
        "padding-top:.5em}"
        "</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def to_docx(out: MinutesOut, titles: dict[int, str]) -> bytes:
    """A Word document in the usual layout of Chinese meeting minutes."""
    return lines_to_docx(f"{out.content.title}会议纪要", _lines(out, titles))


def lines_to_docx(title: str, lines: Iterable[tuple[str, str]]) -> bytes:
    """A Word document of (kind, text) lines: title, field (``标签：值``), heading, sub,
    para, item, footer; CJK text in 宋体."""
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(12)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    doc.core_properties.title = title
    doc.core_properties.language = "zh-CN"
    for kind, text in lines:
        clean = _xml_safe(text)
        paragraph = doc.add_paragraph()
        if kind == "field":
            label, _, value = clean.partition("：")
            _run(paragraph, f"{label}：", bold=True)
            _run(paragraph, value)
            continue
        run = _run(paragraph, clean, bold=kind in ("title", "heading", "sub"))
        if kind == "title":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run.font.size = Pt(18)
        elif kind == "heading":
            run.font.size = Pt(14)
        elif kind == "item":
            paragraph.paragraph_format.left_indent = Pt(24)
        elif kind == "footer":
            run.font.size = Pt(9)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _run(paragraph: Paragraph, text: str, *, bold: bool = False) -> Run:
    run = paragraph.add_run(text)
    run.bold = bold
    run.font.name = FONT  # creates rPr/rFonts; East Asian text needs its own attribute
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    return run


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """Word XML cannot hold control characters; drop them."""
    return _XML_BAD.sub("", text)
