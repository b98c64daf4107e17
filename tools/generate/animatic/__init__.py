"""The animatic backend (`tools.generate.animatic:AnimaticBackend`, entry point `animatic`).

    backend.py  the backend: t2v, i2v and v2v requests to frames
    scene.py    reading a shot's words (palette, setting, subject) and painting its layers
    camera.py   camera paths, the subject's action, the compositor, particles and the slate
    style.py    looks from style words (watercolour, sketch, noir ...) and colour grades
"""

from tools.generate.animatic.backend import MODEL_ID, AnimaticBackend, describe

__all__ = ["MODEL_ID", "AnimaticBackend", "describe"]
