"""What a file really is: an image, a video or audio, read from its bytes and headers, never decoded in full.

Every front door that takes a path or an upload asks here first, so a text file named `.png`, a
13000x13000 "decompression bomb" or a PDF named `.mp3` is refused with one clear sentence before
any pixel is decoded or any take is made. Extensions are not trusted.
"""

from __future__ import annotations

import os
import re
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_PIXELS = 40_000_000     # 40 MP: larger than any camera still people upload as a reference


class MediaError(ValueError):
    """The file is missing, is not the kind of media asked for, or is too large to decode."""

    code = "bad_request"


class TooManyPixels(MediaError):
    """An image (or video frame) declaring more pixels than the limit; refused before decoding."""

    def __init__(self, message: str, width: int | None = None, height: int | None = None):
        super().__init__(message)
        self.width, self.height = width, height


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def _name(path: Path) -> str:
    # The file's name only: messages may reach people who must not learn the server's folders.
    return path.name or str(path)


def _exists(path: Path, what: str) -> None:
    if not path.exists():
        raise MediaError(f"{what} {_name(path)} does not exist")
    if not path.is_file():
        raise MediaError(f"{what} {_name(path)} is not a file")


def image_info(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """The image's format and declared size, read from its header (no pixel decoded); the whole
    file is then checked for truncation and bad chunks without decoding. MediaError otherwise."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    _exists(path, "image")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard (a warning, then an error) decodes nothing either; ours is
            # stricter, configurable and says what to do.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                info = ImageInfo(format=(im.format or "?").lower(), width=im.size[0], height=im.size[1])
                if info.pixels > max_pixels:
                    raise TooManyPixels(f"image {_name(path)} is {info.width}x{info.height} "
                                        f"({info.pixels / 1e6:.0f} MP); the limit is {max_pixels / 1e6:g} MP",
                                        info.width, info.height)
                im.verify()
    except MediaError:
        raise
    except Image.DecompressionBombError:
        raise TooManyPixels(f"image {_name(path)} declares more than {2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} MP; "
                            f"the limit is {max_pixels / 1e6:g} MP") from None
    except UnidentifiedImageError as err:
        raise MediaError(f"{_name(path)} is not an image we can read (png, jpeg or webp): "
                         f"{type(err).__name__}") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise MediaError(f"image {_name(path)} is damaged or truncated ({err})") from None
    if info.width < 1 or info.height < 1:
        raise MediaError(f"image {_name(path)} has no pixels")
    return info


def require_image(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    return image_info(path, max_pixels=max_pixels)


def _ffmpeg_streams(path: Path) -> str:
    from tools.edit.video_io import ffmpeg_exe

    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], check=False,
                          capture_output=True, timeout=60)
    return proc.stderr.decode(errors="replace")


_VIDEO_STREAM = re.compile(r"Stream #\d+:\d+[^:]*: Video: (?!png|mjpeg|bmp|gif|webp)")
_AUDIO_STREAM = re.compile(r"Stream #\d+:\d+[^:]*: Audio:")


def require_video(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> dict:
    """{width, height} of a real video file (a stream of moving pictures, not a still); MediaError otherwise."""
    path = Path(path)
    _exists(path, "video")
    text = _ffmpeg_streams(path)
    line = next((ln for ln in text.splitlines() if _VIDEO_STREAM.search(ln)), None)
    if line is None:
        raise MediaError(f"{_name(path)} is not a video we can read (mp4, mov or webm)")
    size = re.search(r"\b(\d{2,5})x(\d{2,5})\b", re.sub(r"\([^)]*\)", "", line.split("Video:", 1)[1]))
    width, height = (int(size.group(1)), int(size.group(2))) if size else (0, 0)
    if width * height > max_pixels:
        raise TooManyPixels(f"video {_name(path)} is {width}x{height}; the limit is {max_pixels / 1e6:g} MP a frame")
    return {"width": width, "height": height}


def require_audio(path: str | os.PathLike) -> None:
    """A file with an audio stream (mp3, wav, m4a, ogg, flac...); MediaError otherwise."""
    path = Path(path)
    _exists(path, "music")
    if not _AUDIO_STREAM.search(_ffmpeg_streams(path)):
        raise MediaError(f"music {_name(path)} is not an audio file we can read (wav, mp3, m4a, ogg or flac)")
