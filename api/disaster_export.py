"""The evacuation-support list of a disaster event, with its safety checks, as CSV and as a printable Japanese PDF.

For when the network is down: a supporter prints the list of their area. Every page and the CSV's first lines
name the event, when it was produced and by whom (by organisation), and an exercise's say 【訓練】. Only the
list's fields are printed (name, kana, birth date, sex, address, contact, the reason help is needed) with the
latest check outcome and the place of evacuation. The PDF's font is IPAex Gothic, embedded (audit/pdf.py).
"""

from __future__ import annotations

import csv
import datetime
import io
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from api.serializers.disaster import address_of
from audit.pdf import pdf_font
from cases.models import DisasterEvent
from cases.models.choices import SpecialCare
from cases.models.disaster import CheckOutcome, DisasterKind, ListReason, Sex
from cases.models.tasks import TaskStatus

HEADER = ["地区", "氏名", "ふりがな", "生年月日", "性別", "住所", "連絡先", "支援が必要な理由", "安否確認", "避難先"]
REASONS = {**dict(ListReason.choices), **dict(SpecialCare.choices)}
NOTICE = ("取扱注意：この名簿の情報には秘密保持義務があります（災害対策基本法第49条の13）。"
          "避難支援等の目的以外に使わないでください。")


def _local(moment: datetime.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def export_title(event: DisasterEvent) -> str:
    return f"{event.mark}避難行動要支援者名簿 災害イベント{event.id}（{DisasterKind(event.kind).label}）"


def export_heading(event: DisasterEvent, *, generated_at: datetime.datetime, organization: str) -> list[str]:
    return [export_title(event), f"発令 {_local(event.starts_at)}　出力 {_local(generated_at)}　出力者の組織 "
            f"{organization}", NOTICE]


def _status(row) -> str:
    if row.outcome in CheckOutcome.values:
        return CheckOutcome(row.outcome).label
    if row.task_status in (TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED):
        return "未確認"
    return "—" if not row.task_status else TaskStatus(row.task_status).label


def _cells(row) -> list[str]:
    entry, resident = row.entry, row.entry.resident
    reasons = "、".join(REASONS.get(code, code) for code in entry.reasons if code != ListReason.SPECIAL_CARE)
    return [resident.district.code, resident.name_kanji, resident.name_kana, resident.date_of_birth.isoformat(),
            Sex(entry.sex).label, address_of(resident), resident.phone or "—", reasons or "—", _status(row),
            row.evacuated_to or ""]


def export_csv(rows, *, event: DisasterEvent, generated_at: datetime.datetime, organization: str) -> bytes:
    """UTF-8 with a byte-order mark (so a spreadsheet opens the Japanese as such); the heading lines first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in export_heading(event, generated_at=generated_at, organization=organization):
        writer.writerow([line])
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(_cells(row))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export_pdf(rows, *, event: DisasterEvent, generated_at: datetime.datetime, organization: str) -> bytes:
    """A4 landscape; the event, the time and the exercise mark in the title and in every page's footer."""
    font = pdf_font()
    body = ParagraphStyle("body", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=14, leading=19, spaceAfter=4)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=10, textColor=colors.grey)
    heading = export_heading(event, generated_at=generated_at, organization=organization)
    footer = f"{heading[0]}　出力 {_local(generated_at)}"

    def on_page(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.drawString(12 * mm, 7 * mm, f"{footer}　{doc.page}頁")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=14 * mm, title=heading[0], author="mimamori",
                            initialFontName=font)
    story = [Paragraph(escape(heading[0]), title), Paragraph(escape(heading[1]), body),
             Paragraph(escape(heading[2]), small), Spacer(1, 3 * mm)]
    widths = [14, 26, 28, 20, 10, 62, 24, 40, 20, 29]
    data = [[Paragraph(escape(cell), body) for cell in HEADER]]
    data += [[Paragraph(escape(cell), body) for cell in _cells(row)] for row in rows]
    if len(data) == 1:
        story.append(Paragraph("該当者なし", body))
    else:
        table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
        table.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), font), ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
