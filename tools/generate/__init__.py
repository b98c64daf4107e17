"""Generation backends: one file each, registered by name through the `reel_director.backends` entry point."""

from tools.generate.base import (
    Backend,
    BackendError,
    GenerationRequest,
    GenerationResult,
    get_backend,
    list_backends,
    register_backend,
)

__all__ = ["Backend", "BackendError", "GenerationRequest", "GenerationResult", "get_backend", "list_backends", "register_backend"]
