"""Generation backends: one file each, registered by name through the `reel_director.backends` entry point."""

from tools.generate.base import (
    EXCLUSIVE,
    SHARED,
    Backend,
    BackendCrash,
    BackendError,
    GenerationCancelled,
    GenerationError,
    GenerationRequest,
    GenerationResult,
    concurrency_of,
    get_backend,
    list_backends,
    register_backend,
)

__all__ = ["EXCLUSIVE", "SHARED", "Backend", "BackendCrash", "BackendError", "GenerationCancelled", "GenerationError",
           "GenerationRequest", "GenerationResult", "concurrency_of", "get_backend", "list_backends", "register_backend"]
