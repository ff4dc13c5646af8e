"""Real 4x6" labels for the sandbox carrier: a PDF (reportlab) or a 203 dpi PNG, each with a
scannable Code128 of the tracking number; return labels also get a QR code the customer can
show at a drop-off point instead of printing."""

from __future__ import annotations

import io
import itertools
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
    _draw_bars(
        pdf, content.tracking_number, 0.25 * inch, y - BAR_HEIGHT_IN * inch, width - 0.5 * inch
    )
    if content.qr_payload:
        side = 1.3 * inch
        code = ImageReader(qr_image(content.qr_payload))
        pdf.drawImage(code, (width - side) / 2, 0.2 * inch, side, side)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


BAR_HEIGHT_IN = 0.75
QUIET_MODULES = 10  # Code128's quiet zone each side, in modules


def _draw_bars(pdf: canvas.Canvas, tracking_number: str, x: float, y: float, width: float) -> None:
    """The Code128 as filled rectangles, one per bar: vector bars print crisp at any
    resolution and cost a fraction of an embedded image's CPU (docs/benchmarks.md)."""
    modules = barcode.get("code128", tracking_number).build()[0]  # "1" a bar, "0" a space
    module = width / (len(modules) + 2 * QUIET_MODULES)
    start = x + QUIET_MODULES * module
    for offset, bar in _bars(modules):
        pdf.rect(
            start + offset * module, y, len(bar) * module, BAR_HEIGHT_IN * inch, stroke=0, fill=1
        )


def _bars(modules: str) -> list[tuple[int, str]]:
    """(first module, the bar's modules) of each bar."""
    bars, offset = [], 0
    for bit, group in itertools.groupby(modules):
        run = "".join(group)
        if bit == "1":
            bars.append((offset, run))
        offset += len(run)
    return bars
