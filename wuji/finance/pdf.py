"""The contract PDF (合同), in Chinese, drawn with ReportLab's built-in CJK font STSong-Light (Adobe-GB1): no
font files to ship. The contract number is also drawn in Helvetica, so it is searchable as plain text."""

import io
import re

from django.conf import settings
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from wuji.core import clock
from wuji.core.money import fen_to_yuan

from .capitals import fen_to_capitals

FONT = "STSong-Light"
TOKENS = re.compile(r"[A-Za-z0-9.,:/@()\-]+|\s|.")  # ASCII runs stay whole; Chinese breaks between characters


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def contract_lines(contract, terms) -> list[tuple[str, str]]:
    """(style, text) rows of the contract body; style is "h" (heading) or "p" (paragraph)."""
    customer_id_label = "统一社会信用代码" if len(contract.party_number) == 18 and "*" not in contract.party_number \
        else "证件号码"
    agreement = f"《武极云用户服务协议》（版本 {contract.agreement_version}）" if contract.agreement_version \
        else "《武极云用户服务协议》"
    company_code = f"统一社会信用代码：{settings.WUJI_COMPANY_CREDIT_CODE}" if settings.WUJI_COMPANY_CREDIT_CODE else ""
    rows = [
        ("h", "甲方（客户）"),
        ("p", f"名称：{contract.party_name}"),
        ("p", f"{customer_id_label}：{contract.party_number}"),
        ("h", "乙方（服务提供方）"),
        ("p", f"名称：{settings.WUJI_COMPANY_NAME}"),
        ("p", f"地址：{settings.WUJI_COMPANY_ADDRESS}"),
    ]
    if company_code:
        rows.append(("p", company_code))
    rows += [
        ("h", "一、服务内容"),
        ("p", f"乙方向甲方提供云服务器服务：配置 {terms.plan}（{terms.spec}），地域 {terms.region}，"
              f"服务器名称 {terms.server}，计费周期 {terms.cycle}。"),
        ("p", f"服务期限：自 {terms.start} 起至 {terms.end} 止（北京时间）。"),
        ("h", "二、服务费用"),
        ("p", f"服务费用合计人民币 {fen_to_yuan(terms.amount_fen):,} 元（大写：{fen_to_capitals(terms.amount_fen)}），"
              f"甲方已于 {terms.paid_on} 自其武极云账户余额支付（订单号 {contract.order_id}）。"),
        ("p", "乙方按甲方实际支付的金额开具发票，赠送金和优惠抵扣部分不开具发票。"),
        ("h", "三、双方权利义务"),
        ("p", f"双方的权利义务、服务标准、费用扣除、资金冻结、数据保护和违约责任等事项，适用甲方在武极云注册时"
              f"在线接受的{agreement}。本合同与该协议不一致的，以本合同为准。"),
        ("p", "本合同自乙方审核通过之日起生效。本合同为电子合同，与纸质合同具有同等效力。"),
        ("h", "四、签署"),
        ("p", f"甲方：{contract.party_name}"),
        ("p", f"乙方：{settings.WUJI_COMPANY_NAME}"),
        ("p", f"日期：{contract.reviewed_at.astimezone(clock.SHANGHAI).strftime('%Y-%m-%d')}"),
    ]
    return rows


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy line breaking by measured width."""
    lines, line = [], ""
    for token in TOKENS.findall(text):
        if line and pdfmetrics.stringWidth(line + token, font, size) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    return [*lines, line] if line else lines or [""]


def render_contract(contract, terms) -> bytes:
    """The contract as PDF bytes (one or more A4 pages)."""
    font = _font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"武极云服务合同 {contract.number}")
    pdf.setAuthor(settings.WUJI_COMPANY_NAME)
    pdf.setSubject(contract.number)
    width, height = A4
    left, y = 20 * mm, height - 25 * mm

    pdf.setFont(font, 18)
    pdf.drawCentredString(width / 2, y, "武极云服务合同")
    y -= 10 * mm
    pdf.setFont(font, 10)
    pdf.drawString(left, y, "合同编号：")
    pdf.setFont("Helvetica", 10)
    pdf.drawString(left + 20 * mm, y, contract.number)
    y -= 10 * mm

    for style, text in contract_lines(contract, terms):
        size = 12 if style == "h" else 11
        if style == "h":
            y -= 2 * mm
        indent = 0 if style == "h" else 4 * mm
        for line in wrap(text, font, size, width - 2 * left - indent):
            if y < 20 * mm:
                pdf.showPage()
                y = height - 20 * mm
            pdf.setFont(font, size)
            pdf.drawString(left + indent, y, line)
            y -= 7 * mm
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
