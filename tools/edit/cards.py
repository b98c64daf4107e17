"""Title and end cards, drawn with PIL and the DejaVu fonts at any frame size.

The end card always carries the AI-generation disclosure line; the safety tools add the visible
label and watermark on top (through the assembler's `finish_frames` hook).
"""

from __future__ import annotations

import textwrap
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

DISCLOSURE_LINE = "Made with AI — Reel Director"
BACKGROUND = (12, 14, 18)
FOREGROUND = (238, 236, 230)
MUTED = (160, 164, 172)

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF", "/usr/share/fonts/dejavu",
              "/usr/local/share/fonts", "/Library/Fonts")


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans at `size` px; PIL's own scalable default font if DejaVu is not installed."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in _FONT_DIRS:
        path = Path(folder) / name
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    try:
        return ImageFont.truetype(name, size)
    except OSError:
        return ImageFont.load_default(size=size)


def _fit_lines(draw: ImageDraw.ImageDraw, text: str, size: int, max_width: int, bold: bool,
               max_lines: int = 3) -> tuple[list[str], ImageFont.ImageFont]:
    """Wrap `text` and shrink the font until every line fits `max_width`."""
    while True:
        f = font(size, bold)
        avg = max(1.0, draw.textlength("abcdefghijklmnopqrstuvwxyz", font=f) / 26)
        lines = textwrap.wrap(text, width=max(4, int(max_width / avg))) or [""]
        widest = max(draw.textlength(line, font=f) for line in lines)
        if (widest <= max_width and len(lines) <= max_lines) or size <= 8:
            return lines[:max_lines], f
        size = int(size * 0.9)


def _draw_block(draw: ImageDraw.ImageDraw, blocks: list[tuple[list[str], ImageFont.ImageFont, tuple]], width: int,
                height: int, gap: float) -> None:
    heights = []
    for lines, f, _ in blocks:
        asc, desc = f.getmetrics()
        heights.append(len(lines) * int((asc + desc) * 1.15))
    total = sum(heights) + gap * (len(blocks) - 1)
    y = (height - total) / 2
    for lines, f, colour in blocks:
        asc, desc = f.getmetrics()
        line_h = int((asc + desc) * 1.15)
        for line in lines:
            w = draw.textlength(line, font=f)
            draw.text(((width - w) / 2, y), line, font=f, fill=colour)
            y += line_h
        y += gap


def title_card(width: int, height: int, title: str, subtitle: str | None = None) -> np.ndarray:
    """One title-card frame (H, W, 3) uint8 RGB."""
    img = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    short = min(width, height)
    margin = int(width * 0.1)
    blocks = [(*_fit_lines(draw, title, max(10, int(short * 0.11)), width - 2 * margin, True), FOREGROUND)]
    if subtitle:
        blocks.append((*_fit_lines(draw, subtitle, max(8, int(short * 0.05)), width - 2 * margin, False), MUTED))
    _draw_block(draw, blocks, width, height, gap=short * 0.04)
    return np.asarray(img, dtype=np.uint8).copy()


def end_card(width: int, height: int, credits: str | list[str] | None = None, title: str | None = None) -> np.ndarray:
    """One end-card frame: optional title, credits (a string with newlines or a list), and the AI disclosure."""
    img = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    short = min(width, height)
    margin = int(width * 0.1)
    usable = width - 2 * margin
    blocks = []
    if title:
        blocks.append((*_fit_lines(draw, title, max(10, int(short * 0.075)), usable, True, max_lines=2), FOREGROUND))
    lines = credits.splitlines() if isinstance(credits, str) else list(credits or [])
    for line in [x.strip() for x in lines if x.strip()][:8]:
        blocks.append((*_fit_lines(draw, line, max(8, int(short * 0.045)), usable, False, max_lines=2), MUTED))
    blocks.append((*_fit_lines(draw, DISCLOSURE_LINE, max(8, int(short * 0.05)), usable, True, max_lines=2), FOREGROUND))
    _draw_block(draw, blocks, width, height, gap=short * 0.03)
    return np.asarray(img, dtype=np.uint8).copy()
