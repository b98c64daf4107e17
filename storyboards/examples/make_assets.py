"""Re-make the media the examples use, procedurally and deterministically:

    python -m storyboards.examples.make_assets

- product_teaser_bottle.png: a 640x640 studio shot of a glass bottle (the i2v reference).
- city_remix_street.mp4: 2 s, 320x180, 24 fps of a night street with passing cars (the v2v source).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).parent


def _lerp(a, b, t):
    return np.asarray(a, float) * (1 - t) + np.asarray(b, float) * t


def product_image(size: int = 640) -> Image.Image:
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    # A warm sweep backdrop: a soft studio gradient, lighter behind the product.
    glow = np.exp(-(((xx - 0.5) / 0.45) ** 2 + ((yy - 0.42) / 0.5) ** 2))
    bg = _lerp((196, 170, 150), (244, 232, 218), glow[..., None])
    floor = yy > 0.74
    bg[floor] = _lerp(bg[floor], (170, 146, 128), ((yy[floor] - 0.74) / 0.26)[..., None] * 0.6)
    img = Image.fromarray(bg.clip(0, 255).astype(np.uint8))

    # Contact shadow on the floor.
    shadow = Image.new("L", (size, size), 0)
    ImageDraw.Draw(shadow).ellipse((215, 455, 425, 500), fill=120)
    shadow = shadow.filter(ImageFilter.GaussianBlur(14))
    img = Image.composite(Image.new("RGB", (size, size), (90, 70, 60)), img, shadow)

    # The bottle: a rounded body with a vertical shading ramp (glass tinted amber), shoulders, a neck and a cap.
    mask = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(mask)
    d.rounded_rectangle((235, 230, 405, 478), radius=38, fill=255)
    d.ellipse((235, 195, 405, 275), fill=255)
    d.rectangle((293, 150, 347, 215), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(1.2))
    x = (xx - 235 / size) / (170 / size)
    shade = np.clip(0.35 + 0.9 * np.exp(-((x - 0.3) / 0.22) ** 2) - 0.35 * np.clip(x - 0.6, 0, 1), 0, 1.2)
    glass = _lerp((88, 44, 18), (226, 150, 70), np.clip(shade, 0, 1)[..., None])
    glass += (np.exp(-((x - 0.22) / 0.035) ** 2) * 60)[..., None]       # specular streak
    img = Image.composite(Image.fromarray(glass.clip(0, 255).astype(np.uint8)), img, mask)

    d = ImageDraw.Draw(img)
    d.rounded_rectangle((285, 112, 355, 156), radius=8, fill=(38, 34, 32))      # cap
    d.rectangle((288, 118, 296, 150), fill=(82, 76, 70))                         # cap highlight
    d.rounded_rectangle((262, 318, 378, 410), radius=6, fill=(240, 233, 220))   # label
    d.line((280, 352, 360, 352), fill=(60, 48, 40), width=3)
    d.line((292, 370, 348, 370), fill=(150, 120, 90), width=2)
    return img


def city_frames(n: int = 48, w: int = 320, h: int = 180) -> np.ndarray:
    rng = np.random.default_rng(7)
    yy = np.arange(h)[:, None] / h
    sky = _lerp((18, 22, 48), (70, 40, 70), yy[..., None] ** 2)
    sky = np.broadcast_to(sky, (h, w, 3))
    # A skyline wider than the frame, so the camera can pan across it.
    world_w = w + 80
    skyline = np.zeros((h, world_w, 3))
    heights = rng.integers(50, 130, size=world_w // 20 + 1)
    skymask = np.ones((h, world_w), bool)
    for i, bh in enumerate(heights):
        x0 = i * 20
        top = h - 40 - bh
        skymask[top:h - 40, x0:x0 + 18] = False
        skyline[top:h - 40, x0:x0 + 18] = (24, 24, 30) if i % 2 else (32, 30, 38)
        for wy in range(top + 6, h - 46, 9):
            for wx in range(x0 + 3, x0 + 15, 6):
                if rng.random() < 0.45:
                    skyline[wy:wy + 4, wx:wx + 3] = (250, 205, 120) if rng.random() < 0.8 else (150, 200, 255)
    frames = np.empty((n, h, w, 3), np.uint8)
    for f in range(n):
        pan = int(round(f * 80 / (n - 1)))
        frame = np.where(skymask[:, pan:pan + w, None], sky, skyline[:, pan:pan + w])
        frame[h - 40:] = (40, 40, 46)                                    # street
        frame[h - 22:h - 20, ::24] = (200, 200, 180)                     # lane marks
        for lane, speed, colour in ((h - 34, 9, (255, 240, 200)), (h - 16, -7, (255, 60, 50))):
            for k in range(3):
                cx = int((k * 130 + f * speed) % (w + 60)) - 30
                frame[lane - 4:lane + 4, max(cx, 0):max(cx + 26, 0)] = (70, 70, 80)
                for lx in (cx, cx + 22):
                    if 0 <= lx < w - 4:
                        frame[lane - 1:lane + 2, lx:lx + 4] = colour
        frames[f] = frame.clip(0, 255).astype(np.uint8)
    return frames


def write_mp4(frames: np.ndarray, path: Path, fps: int = 24) -> None:
    import imageio_ffmpeg

    from storyboards.artifacts import atomic_path

    n, h, w, _ = frames.shape
    with atomic_path(path) as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(tmp), (w, h), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
            output_params=["-crf", "26", "-preset", "slow", "-movflags", "+faststart"],
            macro_block_size=1, ffmpeg_log_level="error",
        )
        writer.send(None)
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
        writer.close()


def main() -> None:
    from storyboards.artifacts import atomic_path

    with atomic_path(HERE / "product_teaser_bottle.png") as tmp:
        product_image().save(tmp, optimize=True)
    write_mp4(city_frames(), HERE / "city_remix_street.mp4")
    for name in ("product_teaser_bottle.png", "city_remix_street.mp4"):
        print(name, (HERE / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
