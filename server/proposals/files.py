"""What a proposal's file may be: a name that is safe to show and to save, and bytes that are
what their Content-Type says (pure; no I/O).

A unit's reply letter is opened by other people on their own machines, so the name must not
disguise what the file is (U+202E turns "gpj.exe" into "exe.jpg"), must not be a path, and the
content must be the kind of document its type promises, not a program sent as ``application/pdf``.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from server.i18n import _
from server.text import not_a_line


@dataclass(frozen=True)
class FileType:
    """An accepted media type: what people call it and the extensions that fit it."""

    words: str
    extensions: tuple[str, ...]


OLE2 = "application/x-ole-storage"  # the container of Office 97–2003 (and encrypted) documents
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

TYPES = {
    "application/pdf": FileType("a PDF document", (".pdf",)),
    "application/msword": FileType("a Word 97–2003 document", (".doc", ".dot")),
    DOCX: FileType("a Word document", (".docx",)),
    "application/vnd.ms-excel": FileType("an Excel 97–2003 workbook", (".xls",)),
    XLSX: FileType("an Excel workbook", (".xlsx",)),
    "application/vnd.ms-powerpoint": FileType("a PowerPoint 97–2003 file", (".ppt", ".pps")),
    PPTX: FileType("a PowerPoint presentation", (".pptx",)),
    "application/ofd": FileType("an OFD document (国家版式文档)", (".ofd",)),
    "image/png": FileType("a PNG image", (".png",)),
    "image/jpeg": FileType("a JPEG image", (".jpg", ".jpeg", ".jpe")),
    "text/plain": FileType("plain text", (".txt", ".text")),
}

# What each declared type's bytes may turn out to be. Office 97–2003 files share one container
# whose kind only its directory tells; an encrypted .docx/.xlsx/.pptx is that container too.
_FITS = {
    "application/msword": {OLE2},
    "application/vnd.ms-excel": {OLE2},
    "application/vnd.ms-powerpoint": {OLE2},
    DOCX: {DOCX, OLE2},
    XLSX: {XLSX, OLE2},
    PPTX: {PPTX, OLE2},
}

_DETECTED_WORDS = {
    OLE2: "an Office 97–2003 or encrypted Office file",
    "application/zip": "a ZIP archive that is damaged or not an Office or OFD document",
    "image/gif": "a GIF image",
    "text/html": "an HTML page",
    "application/x-msdownload": "a Windows program",
    "application/x-executable": "a Linux program",
    "application/octet-stream": "binary data of no accepted kind",
}

_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE2),
    (b"\x7fELF", "application/x-executable"),
)
# Parts that name an Office Open XML document's kind; OFD's entry file (GB/T 33190).
MAX_ZIP_DIRECTORY = 512 * 1024  # bytes; a .docx's directory takes a few KiB
_ZIP_PARTS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
_HTML = re.compile(rb"\s*<(!doctype\s+html|html|head|body|script)\b", re.IGNORECASE)
# Controls a text file does not hold (tab, LF, FF, CR and ESC are fine).
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")

MAX_NAME_BYTES = 255  # what every common file system takes as one name
# Besides line text's rule: bidirectional marks and line/paragraph separators.
_NOT_IN_A_NAME = re.compile("[/\\\\\u061c\u200e\u200f\u2028\u2029]")
_UNSAFE_IN_A_SAVED_NAME = re.compile(
    "[\x00-\x1f\x7f-\x9f/\\\\\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]"
)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a stored file, or ``None`` when it can."""
    reason = not_a_line(name)
    if reason is not None:
        return reason
    found = _NOT_IN_A_NAME.search(name)
    if found is not None and found.group() in "/\\":
        return _("contains a path separator (/ or \\); give the file's own name only")
    if found is not None:
        return _(
            "contains the invisible direction or line character {code}",
            code=f"U+{ord(found.group()):04X}",
        )
    if set(name) <= {"."}:
        return _("is only dots; give the file's name, like 答复函.pdf")
    if len(name.encode()) > MAX_NAME_BYTES:
        return _("is longer than {limit} bytes in UTF-8; shorten it", limit=MAX_NAME_BYTES)
    return None


def saved_name(name: str, media_type: str) -> str:
    """The name to save a download as: unsafe characters replaced (files stored before names
    were checked may hold them) and an extension that fits the file's type."""
    clean = _UNSAFE_IN_A_SAVED_NAME.sub("_", name).strip(". ") or "file"
    known = TYPES.get(media_type)
    if known is None or clean.lower().endswith(known.extensions):
        return clean
    return clean + known.extensions[0]


def _zip_directory_size(data: bytes) -> int | None:
    """The size of a ZIP's central directory, from its end record (what zipfile reads)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or end + 22 > len(data):
        return None
    return int.from_bytes(data[end + 12 : end + 16], "little")


def _zip_kind(data: bytes) -> str:
    size = _zip_directory_size(data)
    if size is None or size > MAX_ZIP_DIRECTORY:
        # Not an Office or OFD file (their directory lists dozens of parts); listing a
        # directory of 200,000 entries would hold the event loop for a second.
        return "application/zip"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except Exception:  # zipfile raises many kinds on a damaged or hostile archive
        return "application/zip"
    if "OFD.xml" in names:
        return "application/ofd"
    if "[Content_Types].xml" in names:
        for prefix, kind in _ZIP_PARTS:
            if any(n.startswith(prefix) for n in names):
                return kind
    return "application/zip"


def _is_text(data: bytes) -> bool:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return _NOT_TEXT.search(text) is None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _NOT_TEXT.search(data.decode("utf-16")) is None
        except UnicodeDecodeError:
            return False
    return False


def detect(data: bytes) -> str:
    """The media type ``data`` looks like, from its first bytes (and a ZIP's part names)."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return _zip_kind(data) if kind == "application/zip" else kind
    if _HTML.match(data[:1024]):
        return "text/html"
    if _is_text(data):
        return "text/plain"
    if b"%PDF-" in data[:1024]:  # readers accept junk before the header in the first KiB
        return "application/pdf"
    if data.startswith(b"MZ"):  # checked after text: a note may well begin with "MZ"
        return "application/x-msdownload"
    return "application/octet-stream"


def words_for(media_type: str) -> str:
    """How people call a media type."""
    known = TYPES.get(media_type)
    return known.words if known is not None else _DETECTED_WORDS.get(media_type, media_type)


def content_mismatch(declared: str, data: bytes) -> str | None:
    """The type ``data`` really is when it is not ``declared``, or ``None`` when it fits."""
    detected = detect(data)
    return None if detected in _FITS.get(declared, {declared}) else detected
