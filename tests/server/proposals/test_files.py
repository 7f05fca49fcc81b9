"""The pure rules for a proposal's files: names, download names, and content detection."""

from __future__ import annotations

import io
import zipfile

import pytest

from server.proposals import files


@pytest.mark.parametrize(
    "name",
    ["答复函.pdf", "关于“加装电梯”的答复（第2版）.docx", ".答复函.pdf", "v1..2.pdf", "a" * 200],
)
def test_ordinary_names_are_accepted(name: str) -> None:
    assert files.name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "media_type", "saved"),
    [
        ("答复函.pdf", "application/pdf", "答复函.pdf"),
        ("答复函.PDF", "application/pdf", "答复函.PDF"),
        ("答复函", "application/pdf", "答复函.pdf"),
        ("照片.html", "image/jpeg", "照片.html.jpg"),
        ("x\u202egpj.exe", "image/png", "x_gpj.exe.png"),
        ("..", "text/plain", "file.txt"),
    ],
)
def test_a_download_is_saved_under_a_safe_name_that_fits_its_type(
    name: str, media_type: str, saved: str
) -> None:
    assert files.saved_name(name, media_type) == saved


def test_a_zip_with_a_huge_directory_is_not_taken_for_an_office_document() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<x/>")
        for i in range(4_000):  # 600 KB of directory, past what any Office file needs
            archive.writestr(f"word/media/{'x' * 90}{i}.png", b"")
    assert files.detect(out.getvalue()) == "application/zip"


def test_a_note_that_begins_with_mz_is_text_not_a_program() -> None:
    assert files.detect("MZ公司关于加装电梯的答复".encode()) == "text/plain"
    assert files.detect(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00") == "application/x-msdownload"
