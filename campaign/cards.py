"""Pictures that carry a campaign off the site: the card a link preview
shows (a PNG of 1200 x 630, the size the big previews of Facebook, X,
LinkedIn and the messengers use) and the QR code a printed poster carries
(SVG, sharp at any size)."""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import segno
from markupsafe import Markup
from PIL import Image, ImageColor, ImageDraw, ImageFont

CARD_SIZE = (1200, 630)
_MARGIN = 72
_INK, _MUTED, _PAPER = (27, 27, 27), (80, 90, 95), (255, 255, 255)
_FALLBACK_ACCENT = (11, 110, 79)
# Debian's fonts-dejavu-core: wide coverage of scripts. Where it is missing,
# Pillow's own font draws the card (plainer, still readable).
_FONT_FOLDER = Path("/usr/share/fonts/truetype/dejavu")


@lru_cache(maxsize=32)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(_FONT_FOLDER / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size)
    except OSError:
        return ImageFont.load_default(size)


def _colour(value: str) -> tuple[int, int, int]:
    try:
        return ImageColor.getrgb(value)[:3]
    except ValueError:
        return _FALLBACK_ACCENT


def _lines(text: str, font, width: int) -> list[str]:
    """``text`` broken into lines no wider than ``width``; a word wider
    than a line (a long URL, a script without spaces) is broken anywhere."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:
            if font.getlength(line + char) > width and line:
                lines.append(line)
                line = ""
            line += char
    if line:
        lines.append(line)
    return lines


def _fit(text: str, width: int, sizes: tuple[int, ...], most_lines: int) -> tuple[object, list[str]]:
    """The largest of ``sizes`` at which ``text`` fits ``most_lines``; at the
    smallest, what does not fit ends with an ellipsis."""
    for size in sizes:
        font = _font(size, bold=True)
        lines = _lines(text, font, width)
        if len(lines) <= most_lines:
            return font, lines
    lines = lines[:most_lines]
    last = lines[-1]
    while last and font.getlength(last + "…") > width:
        last = last[:-1]
    lines[-1] = last.rstrip() + "…"
    return font, lines


def card_png(title: str, figure: str, caption: str, footer: str, accent: str) -> bytes:
    """The card: ``title`` large, ``figure`` (a count) and its ``caption``
    in the accent colour, ``footer`` (the site's name) at the bottom."""
    width, height = CARD_SIZE
    accent_rgb = _colour(accent)
    image = Image.new("RGB", CARD_SIZE, _PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 24, height), fill=accent_rgb)
    text_width = width - 2 * _MARGIN
    title_font, title_lines = _fit(title, text_width, (72, 64, 56, 48), 3)
    y = _MARGIN
    for line in title_lines:
        draw.text((_MARGIN, y), line, font=title_font, fill=_INK)
        y += round(title_font.size * 1.2)
    bottom = height - _MARGIN
    draw.text((_MARGIN, bottom), footer, font=_font(32), fill=_MUTED, anchor="ls")
    if figure:
        figure_font = _font(96, bold=True)
        baseline = bottom - 72
        draw.text((_MARGIN, baseline), figure, font=figure_font, fill=accent_rgb, anchor="ls")
        after = _MARGIN + figure_font.getlength(figure) + 24
        caption_lines = _lines(caption, _font(40), width - _MARGIN - int(after))
        draw.text((after, baseline), caption_lines[0] if caption_lines else "", font=_font(40), fill=_INK,
                  anchor="ls")
    elif caption:
        caption_font = _font(40)
        lines = _lines(caption, caption_font, text_width)[:3]
        baseline = bottom - 72 - (len(lines) - 1) * 52
        for line in lines:
            draw.text((_MARGIN, baseline), line, font=caption_font, fill=_INK, anchor="ls")
            baseline += 52
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def rounded_count(count: int) -> int:
    """``count`` rounded down to two significant digits (12,345 -> 12,000;
    below 100 exactly): a card is drawn again only when this changes."""
    if count < 100:
        return count
    step = 10 ** (len(str(count)) - 2)
    return count // step * step


@lru_cache(maxsize=256)
def qr_svg(url: str, label: str) -> Markup:
    """The QR code of ``url`` as inline SVG that scales to any size (a
    viewBox, no width), named ``label`` for screen readers."""
    svg = segno.make(url, error="m").svg_inline(border=4, dark="#000", light="#fff", title=label,
                                                 svgclass="qr", omitsize=True)
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))
