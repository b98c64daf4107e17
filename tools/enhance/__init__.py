"""Enhancement of generated frames: optical-flow frame interpolation and upscaling."""

from tools.enhance.frames import cover, fit_size, read_video
from tools.enhance.interpolate import interpolate, resample, retime
from tools.enhance.upscale import upscale, upscale_method

__all__ = ["cover", "fit_size", "read_video", "interpolate", "resample", "retime", "upscale", "upscale_method"]
