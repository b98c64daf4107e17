"""The storyboard as one picture: a card per shot (thumbnail, number, id, length, what happens), for
chat, where a picture is read at a glance and a numbered list is not."""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from tools.edit.cards import font
from tools.edit.video_io import atomic_output

PAPER = (24, 26, 31)
CARD = (38, 41, 48)
INK = (236, 234, 228)
MUTED = (158, 162, 170)
ACCENT = (232, 176, 75)
CHANGED = (96, 186, 255)


@dataclass
class ShotCard:
    number: int
    shot_id: str
    duration: float
    lines: list[str]                 # what happens, how it is shot; wrapped to the card
    thumb: np.ndarray | None = None  # (H, W, 3) uint8 RGB, any size: fitted into the card
    changed: bool = False            # drawn with a blue edge: "this is what your change touched"


def storyboard_sheet(title: str, subtitle: str, cards: list[ShotCard], path: str | os.PathLike, *,
                     columns: int = 3, card_width: int = 320, aspect: float = 16 / 9) -> Path:
    """Write a PNG of `cards` in a grid under a title line. Returns the path (written atomically)."""
    columns = max(1, min(columns, len(cards) or 1))
    gap, pad = 14, 10
    thumb_w = card_width - 2 * pad
    thumb_h = int(round(thumb_w / aspect)) if aspect >= 1 else int(round(thumb_w * 0.75))
    text_h = 4 * 17 + 30
    card_h = pad + thumb_h + 8 + text_h
    rows = (len(cards) + columns - 1) // columns
    head = 64
    width = columns * card_width + (columns + 1) * gap
    height = head + rows * (card_h + gap) + gap
    sheet = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(sheet)
    draw.text((gap, 12), title[:80], font=font(24, bold=True), fill=INK)
    draw.text((gap, 42), subtitle[:120], font=font(14), fill=MUTED)
    f_num, f_line = font(16, bold=True), font(13)
    for i, card in enumerate(cards):
        x0 = gap + (i % columns) * (card_width + gap)
        y0 = head + (i // columns) * (card_h + gap)
        draw.rounded_rectangle([x0, y0, x0 + card_width, y0 + card_h], radius=8, fill=CARD,
                               outline=CHANGED if card.changed else CARD, width=3)
        box = (x0 + pad, y0 + pad, thumb_w, thumb_h)
        _paste_thumb(sheet, draw, card.thumb, box)
        y = y0 + pad + thumb_h + 8
        draw.text((x0 + pad, y), f"{card.number}", font=f_num, fill=ACCENT)
        draw.text((x0 + pad + 26, y), f"{card.shot_id} · {card.duration:g} s", font=f_num, fill=INK)
        y += 24
        wrapped = [w for line in card.lines for w in textwrap.wrap(line, width=max(10, thumb_w // 7))][:4]
        for line in wrapped:
            draw.text((x0 + pad, y), line, font=f_line, fill=MUTED)
            y += 17
    path = Path(path)
    with atomic_output(path) as tmp:
        sheet.save(tmp, format="PNG")
    return path


def _paste_thumb(sheet: Image.Image, draw: ImageDraw.ImageDraw, thumb: np.ndarray | None, box) -> None:
    x, y, w, h = box
    if thumb is None:
        draw.rectangle([x, y, x + w, y + h], fill=(55, 58, 66))
        draw.text((x + w // 2 - 40, y + h // 2 - 8), "no picture yet", font=font(13), fill=MUTED)
        return
    image = Image.fromarray(np.ascontiguousarray(thumb[..., :3]))
    ratio = min(w / image.width, h / image.height)   # up or down: small drafts fill the card too
    image = image.resize((max(1, round(image.width * ratio)), max(1, round(image.height * ratio))), Image.LANCZOS)
    sheet.paste(image, (x + (w - image.width) // 2, y + (h - image.height) // 2))
