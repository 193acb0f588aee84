"""A certificate as a PDF, made with fpdf2 (a maintained pure-Python library).

Landscape A4: the platform's name, "Certificate of completion", the student,
the course, the instructor, the issue date, and the verification URL (as text
and as a link) with the code. The facts are the ones the certificate row
froze on the day it was issued (``verify_certificate()``), so a later rename
changes no certificate.

Text is written uncompressed (``set_compression(False)``): a one-page
certificate stays small either way, and an uncompressed file can be checked
with plain byte searches (tests look for the code).

Fonts: names come in every script, and PDF core fonts only know Latin-1. A
Unicode TrueType font is used when the system has one (Liberation or DejaVu,
common on Linux); otherwise the core Helvetica is used and characters it
cannot show become their closest ASCII form or "?". The code and the URL are
always ASCII and written with Helvetica, so they stay searchable text.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF

PLATFORM = "Instructor Portal"
FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)
BRAND = (79, 70, 229)
INK = (31, 36, 48)
MUTED = (91, 98, 114)


@lru_cache(maxsize=1)
def unicode_font() -> tuple[str, str] | None:
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).is_file() and Path(bold).is_file():
            return regular, bold
    return None


def _latin1(text: str) -> str:
    """What the core fonts can print of ``text``."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return folded.encode("latin-1", "replace").decode("latin-1")


class _Writer:
    def __init__(self, pdf: FPDF):
        self.pdf = pdf
        font = unicode_font()
        if font:
            pdf.add_font("Body", "", font[0])
            pdf.add_font("Body", "B", font[1])
            self.family, self.clean = "Body", (lambda text: text)
        else:
            self.family, self.clean = "Helvetica", _latin1

    def line(self, text: str, size: float, *, bold: bool = False, colour=INK, gap: float = 4, ascii_only=False,
             link: str = ""):
        pdf = self.pdf
        pdf.set_font("Helvetica" if ascii_only else self.family, "B" if bold else "", size)
        pdf.set_text_color(*colour)
        pdf.multi_cell(0, size * 0.5, text if ascii_only else self.clean(text), align="C", link=link,
                       new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)


def certificate_pdf(certificate, verify_url: str, issued_on: str) -> bytes:
    """The PDF of ``certificate`` (a VerifiedCertificate), with its verification URL."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_compression(False)
    pdf.set_title(f"Certificate {certificate.code}")
    pdf.set_author(PLATFORM)
    pdf.set_subject(f"Certificate of completion ({'revoked' if certificate.revoked else 'valid'}); "
                    f"verify at {verify_url}")
    pdf.set_creator(PLATFORM)
    pdf.set_auto_page_break(False)
    pdf.set_margins(25, 20, 25)
    pdf.add_page()

    # A double frame.
    pdf.set_draw_color(*BRAND)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, pdf.w - 28, pdf.h - 28)

    write = _Writer(pdf)
    pdf.set_y(26)
    write.line(PLATFORM.upper(), 12, bold=True, colour=BRAND, gap=6)
    write.line("Certificate of completion", 30, bold=True, gap=10)
    if certificate.revoked:
        write.line("REVOKED: this certificate is no longer valid.", 14, bold=True, colour=(180, 35, 24), gap=6,
                   ascii_only=True)
    write.line("This certifies that", 13, colour=MUTED, gap=2)
    write.line(certificate.student_name, 26, bold=True, gap=6)
    write.line("has completed the course", 13, colour=MUTED, gap=2)
    write.line(certificate.course_title, 20, bold=True, gap=6)
    write.line(f"taught by {certificate.instructor_name}", 13, colour=MUTED, gap=2)
    write.line(f"Issued on {issued_on}", 13, colour=MUTED, gap=12)
    write.line("Verify this certificate at", 10, colour=MUTED, gap=1)
    write.line(verify_url, 11, colour=BRAND, ascii_only=True, link=verify_url, gap=1)
    write.line(f"Verification code: {certificate.code}", 10, colour=MUTED, ascii_only=True, gap=0)
    return bytes(pdf.output())
