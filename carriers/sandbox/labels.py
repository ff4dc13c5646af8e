"""Real 4x6" labels for the sandbox carrier: a PDF (reportlab) or a 203 dpi PNG, each with a
scannable Code128 of the tracking number; return labels also get a QR code the customer can
show at a drop-off point instead of printing."""

from __future__ import annotations

import io
from dataclasses import dataclass

import barcode
import qrcode
from barcode.writer import ImageWriter
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from shipflow.domain import Address

DPI = 203
WIDTH_IN, HEIGHT_IN = 4, 6


@dataclass(frozen=True, slots=True)
class LabelContent:
    tracking_number: str
    service: str
    shipper: Address
    recipient: Address
    billable_lb: int
    qr_payload: str = ""  # set for label-less returns


def _address_lines(title: str, address: Address) -> list[str]:
    street = ", ".join(part for part in (address.line1, address.line2) if part)
    town = f"{address.city} {address.state} {address.postal_code}".strip()
    return [title, *filter(None, (address.name or address.company, street, town, address.country))]


def _text_lines(content: LabelContent) -> list[str]:
    heading = "SANDBOX " + content.service.upper().replace("_", " ")
    return [
        heading + (" - RETURN" if content.qr_payload else ""),
        f"{content.billable_lb} LB",
        *_address_lines("FROM:", content.shipper),
        *_address_lines("SHIP TO:", content.recipient),
        f"TRACKING #: {content.tracking_number}",
    ]


BAR_MODULE_PX = 3  # a whole number of printer dots per bar module keeps the bars crisp


def barcode_image(tracking_number: str) -> Image.Image:
    code = barcode.get("code128", tracking_number, writer=ImageWriter(mode="L"))
    options = {
        "write_text": False,
        "module_width": BAR_MODULE_PX * 25.4 / DPI,
        "module_height": 18.0,
        "quiet_zone": 4.0,
        "dpi": DPI,
    }
    return code.render(options)


def qr_image(payload: str) -> Image.Image:
    return qrcode.make(payload, box_size=6, border=2).get_image().convert("RGB")


def qr_png(payload: str) -> bytes:
    return _png_bytes(qr_image(payload))


def _png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def render_png(content: LabelContent) -> bytes:
    size = (WIDTH_IN * DPI, HEIGHT_IN * DPI)
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=24)
    for row, line in enumerate(_text_lines(content)):
        draw.text((30, 30 + row * 32), line, fill="black", font=font)
    bars = barcode_image(content.tracking_number)
    page.paste(bars, ((size[0] - bars.width) // 2, 30 + 15 * 32))
    if content.qr_payload:
        code = qr_image(content.qr_payload).resize((260, 260), Image.Resampling.NEAREST)
        page.paste(code, ((size[0] - 260) // 2, size[1] - 290))
    return _png_bytes(page)


def render_pdf(content: LabelContent) -> bytes:
    out = io.BytesIO()
    width, height = WIDTH_IN * inch, HEIGHT_IN * inch
    pdf = canvas.Canvas(out, pagesize=(width, height))
    pdf.setTitle(f"Sandbox label {content.tracking_number}")
    y = height - 0.35 * inch
    for line in _text_lines(content):
        pdf.setFont("Helvetica-Bold" if line.endswith(":") else "Helvetica", 10)
        pdf.drawString(0.25 * inch, y, line)
        y -= 0.17 * inch
    bars = barcode_image(content.tracking_number)
    bar_width = width - 0.5 * inch
    bar_height = bar_width * bars.height / bars.width
    pdf.drawImage(ImageReader(bars), 0.25 * inch, y - bar_height, bar_width, bar_height)
    if content.qr_payload:
        side = 1.3 * inch
        code = ImageReader(qr_image(content.qr_payload))
        pdf.drawImage(code, (width - side) / 2, 0.2 * inch, side, side)
    pdf.showPage()
    pdf.save()
    return out.getvalue()
