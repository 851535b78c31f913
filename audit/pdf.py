"""The disclosure as a readable Japanese PDF, with its font embedded so it reads the same on any viewer.

The font is IPAex Gothic (IPAexゴシック, IPA Font License v1.0), the TrueType file that the
japanize-matplotlib package ships (a pinned dependency). reportlab embeds the glyphs the document
uses (a subset, with a ToUnicode map, so the text can be searched and copied). reportlab's built-in
CID fonts are not embedded: a viewer without Adobe's Japanese font pack would show substitutes or nothing.
"""

from __future__ import annotations

import functools
import importlib.util
import io
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from audit.models import RightsKind, RightsOutcome, RightsStatus
from cases.models.choices import CaseStatus, HouseholdType, Language, SpecialCare
from cases.models.consent import Category, Decision, Purpose
from cases.models.visits import Channel, Outcome, WarningSign

FONT = "IPAexGothic"
FONT_PACKAGE = "japanize_matplotlib"  # located, not imported (importing it would load matplotlib)

LABELS: dict[str, str] = {
    **dict(Category.choices), **dict(Purpose.choices), **dict(HouseholdType.choices), **dict(Language.choices),
    **dict(SpecialCare.choices), **dict(WarningSign.choices),
    "resident": "対象者", "case": "ケース", "note": "記録", "visit": "訪問記録",
    "evacuation_list": "避難行動要支援者名簿", "evacuation_plan": "個別避難計画",
}
RESIDENT_FIELDS = [
    ("name_kanji", "氏名"), ("name_kana", "ふりがな"), ("date_of_birth", "生年月日"), ("postal_code", "郵便番号"),
    ("address", "住所"), ("district", "担当地区"), ("household_type", "世帯状況"), ("phone", "電話番号"),
    ("preferred_language", "使用言語"), ("interpreter_needed", "通訳の要否"), ("special_care", "配慮事項"),
    ("do_not_contact", "接触禁止"), ("registered_by", "登録した組織"), ("created_at", "登録日時"),
]


def _label(choices, value) -> str:
    """A code shown with its Japanese label (codes of different enumerations may collide, e.g. refused)."""
    return dict(choices.choices).get(value, value) if value else value


def font_file() -> Path:
    """The IPAex Gothic TrueType file inside the installed font package."""
    spec = importlib.util.find_spec(FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the disclosure font needs the {FONT_PACKAGE} package (requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "fonts" / "ipaexg.ttf"


@functools.cache
def _font() -> None:
    pdfmetrics.registerFont(TTFont(FONT, str(font_file())))


def pdf_font() -> str:
    """IPAex Gothic, registered once: the name every printable document of the network sets its text in."""
    _font()
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=17, spaceBefore=10, spaceAfter=4),
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.grey),
    }


def _text(value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, dict):
        return str(value.get("name") or value.get("id"))
    if isinstance(value, list):
        return "、".join(_text(v) for v in value)
    return LABELS.get(str(value), str(value))


def _p(value, style) -> Paragraph:
    return Paragraph(escape(_text(value)).replace("\n", "<br/>"), style)


def _table(rows: list[list], style: ParagraphStyle, widths: list[float]) -> Table:
    table = Table([[_p(cell, style) for cell in row] for row in rows], colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT),  # the table's own default would name Helvetica
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def _section(story, title: str, header: list[str], rows: list[list], widths: list[float], styles) -> None:
    story.append(Paragraph(escape(title), styles["h2"]))
    if not rows:
        story.append(Paragraph("該当なし", styles["body"]))
        return
    story.append(_table([header, *rows], styles["body"], widths))


def disclosure_pdf(data: dict) -> bytes:
    """Render `audit.disclosure.disclosure_build`'s dictionary."""
    _font()
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title="保有個人データ開示書", author="mimamori",
                            initialFontName=FONT)  # each page starts in it too: the PDF names no unembedded font
    resident = data["resident"]
    story = [
        Paragraph("保有個人データ開示書", styles["title"]),
        Paragraph(escape(f"個人情報の保護に関する法律第33条に基づき、{resident['name_kanji']} 様について"
                         "当ネットワークが保有する個人データと第三者提供記録を開示します。"), styles["body"]),
        Paragraph(escape(f"作成日時: {data['generated_at']}　開示請求番号: {data['rights_request'] or '—'}"),
                  styles["small"]),
        Spacer(1, 4 * mm),
    ]
    address = "".join(str(resident.get(k) or "") for k in ("prefecture", "municipality", "town"))
    address += f"{resident['chome']}丁目" if resident.get("chome") else ""
    address += " ".join(str(resident.get(k) or "") for k in ("block_number", "building", "room"))
    values = {**resident, "address": address, "district": resident["district"]["name"]}
    _section(story, "1. 対象者の基本情報", ["項目", "内容"],
             [[label, values.get(key)] for key, label in RESIDENT_FIELDS], [45 * mm, 135 * mm], styles)
    _section(story, "2. ケース", ["番号", "相談内容", "状態", "主担当組織", "チーム", "開始・終結"],
             [[c["id"], c["concern"], _label(CaseStatus, c["status"]), c["lead_organization"], c["team"],
               f"{c['opened_at']} / {c['closed_at'] or '—'}"] for c in data["cases"]],
             [12 * mm, 45 * mm, 18 * mm, 35 * mm, 35 * mm, 35 * mm], styles)
    _section(story, "3. 記録（訂正の履歴を含む）", ["番号", "分類", "内容", "記録者", "日時", "版"],
             [[n["id"], n["category"], n["body"], n["author_organization"], n["created_at"],
               f"旧版 {n['supersedes']}" if n["supersedes"] else ("訂正済" if n["superseded_by"] else "最新")]
              for n in data["notes"]],
             [12 * mm, 20 * mm, 65 * mm, 35 * mm, 30 * mm, 18 * mm], styles)
    _section(story, "4. 訪問記録", ["番号", "日時", "方法", "結果", "気づき", "記録した組織"],
             [[v["id"], v["occurred_at"], _label(Channel, v["channel"]), _label(Outcome, v["outcome"]),
               v["warning_signs"], v["organization"]] for v in data["visits"]],
             [12 * mm, 32 * mm, 22 * mm, 22 * mm, 50 * mm, 42 * mm], styles)
    _section(story, "5. 同意・不同意", ["番号", "意思", "提供先", "分類", "目的", "期間・撤回"],
             [[c["id"], _label(Decision, c["decision"]), [*c["recipient_organizations"], *c["recipient_kinds"]],
               c["categories"], c["purposes"], f"{c['valid_from']} 〜 {c['valid_until'] or ''}"
               + (f" 撤回 {c['withdrawn_at']}" if c["withdrawn_at"] else "")] for c in data["consents"]],
             [12 * mm, 15 * mm, 45 * mm, 35 * mm, 25 * mm, 48 * mm], styles)
    _section(story, "6. 同意によらない提供（法令等に基づく）", ["番号", "根拠", "提供先", "分類", "期間", "理由"],
             [[g["id"], g["basis"], g["organization"], g["categories"], f"{g['starts_at']} 〜 {g['ends_at']}",
               g["justification"]] for g in data["legal_basis_grants"]],
             [12 * mm, 22 * mm, 35 * mm, 30 * mm, 38 * mm, 43 * mm], styles)
    _section(story, "7. つなぎ（紹介）", ["番号", "紹介元", "紹介先", "分類", "状態"],
             [[r["id"], r["sender_organization"], r["receiver_organization"], r["categories"], r["status"]]
              for r in data["referrals"]],
             [12 * mm, 45 * mm, 45 * mm, 48 * mm, 30 * mm], styles)
    _section(story, "8. 第三者提供記録", ["提供日", "提供先", "項目", "分類", "根拠"],
             [[p["provided_at"], p["recipient"], p["item"], p["category"], p["basis"]] for p in data["provisions"]],
             [38 * mm, 55 * mm, 22 * mm, 30 * mm, 35 * mm], styles)
    _section(story, "9. 開示等の請求", ["番号", "種別", "受付", "期限", "結果"],
             [[r["id"], _label(RightsKind, r["kind"]), r["received_at"], r["deadline"],
               _label(RightsOutcome, r["outcome"]) or _label(RightsStatus, r["status"])]
              for r in data["rights_requests"]],
             [12 * mm, 35 * mm, 45 * mm, 45 * mm, 43 * mm], styles)
    doc.build(story)
    return buffer.getvalue()
