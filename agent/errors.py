"""Errors the director raises on purpose: each has a stable `code` for programs and a `message` for people.

Every front door translates them once (server/console.py for the CLI, server/routes/ws.py for the
websocket, server/app.py for the HTTP API, server/bots/common.py for the chat bots), by these
attributes and never by class name:

    class        code            CLI exit  HTTP
    BadInput     bad_request        2      422
    NotFound     not_found          2      404
    Refused      refused            3      403
    NeedsAnswer  needs_answer       4      409
    Conflict     conflict           5      409
    Busy         busy               5      409
    Cancelled    cancelled        130      409
    Failed       failed             1      500   (a generation or edit step failed; the message says which)
    Internal     internal           1      500   (a bug of ours: the message names the exception)

A plain KeyError from our own code is a bug and becomes `internal`, not "not found"; a ValueError
(pydantic's validation errors among them) is taken as bad input, as the front doors always did.
Messages never contain server paths (`public_message` removes any that slip through).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar


class DirectorError(Exception):
    code: ClassVar[str] = "internal"
    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, project_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.project_id = project_id

    def __str__(self) -> str:
        return self.message


class BadInput(DirectorError, ValueError):
    """The request cannot be done as asked (an invalid storyboard, an unknown option)."""

    code, exit_code, http_status = "bad_request", 2, 422


class NotFound(DirectorError, KeyError):
    """No such project, shot, take or file for this user. (Someone else's project looks the same.)"""

    # A KeyError too, so `except KeyError` written against the old API still catches it.
    code, exit_code, http_status = "not_found", 2, 404


class Refused(DirectorError):
    """Refused by the safety check; `report` holds the verdict and the reasons."""

    code, exit_code, http_status = "refused", 3, 403

    def __init__(self, report: Any, message: str | None = None, *, project_id: str | None = None):
        self.report = report
        reasons = list(getattr(report, "reasons", []) or [])
        super().__init__(message or "refused: " + "; ".join(reasons), project_id=project_id)

    @property
    def verdict(self) -> str:
        return getattr(self.report, "verdict", "block")

    @property
    def reasons(self) -> list[str]:
        return list(getattr(self.report, "reasons", []) or [])


class NeedsAnswer(DirectorError):
    """The director needs an answer first (a question, a budget to confirm)."""

    code, exit_code, http_status = "needs_answer", 4, 409


class Conflict(DirectorError):
    """Someone else changed the project first."""

    code, exit_code, http_status = "conflict", 5, 409


class Busy(DirectorError):
    """The project is busy with another job."""

    code, exit_code, http_status = "busy", 5, 409


class Cancelled(DirectorError):
    """The person asked to stop; finished takes are kept."""

    code, exit_code, http_status = "cancelled", 130, 409

    def __init__(self, message: str = "cancelled; finished takes are kept", *, project_id: str | None = None):
        super().__init__(message, project_id=project_id)


class Failed(DirectorError):
    """A step of the work failed (every take of a shot, an encode); the message says which and why."""

    code, exit_code, http_status = "failed", 1, 500


class Internal(DirectorError):
    """A bug of ours: the message names what failed."""


_PATH = re.compile(r"(?<![\w:/.])(?:/[\w.@+-]+){2,}/?")


def public_message(text: str) -> str:
    """`text` without absolute paths of this machine (a file keeps its name: '…/final.mp4')."""
    return _PATH.sub(lambda m: "…/" + m.group(0).rstrip("/").rsplit("/", 1)[-1], text)


def value_problem(err: ValueError) -> str:
    """What was wrong with a value, in words: pydantic's messages without their type names and links."""
    errors = getattr(err, "errors", None)
    if callable(errors):   # pydantic's ValidationError
        said = [re.sub(r"^(?:Value|Assertion) error,\s*", "", str(e.get("msg", ""))) for e in errors()]
        return "; ".join(m for m in said if m) or str(err)
    return str(err)


def as_director_error(err: BaseException) -> DirectorError:
    """Any exception as a DirectorError: ours pass through, lower layers' known ones get their code."""
    if isinstance(err, DirectorError):
        return err
    from storyboards.schema import StoryboardError

    if isinstance(err, StoryboardError):
        return BadInput(str(err))
    from storyboards.store.database import VersionConflict

    if isinstance(err, VersionConflict):  # the store's compare-and-set refused a stale version
        return Conflict(str(err), project_id=err.project_id)
    from tools.generate.base import BackendError

    if isinstance(err, BackendError):
        return Failed(str(err))
    if isinstance(err, ValueError):  # invalid values from a person's input (pydantic's ValidationError among them)
        return BadInput(str(err))
    detail = err.args[0] if isinstance(err, KeyError) and err.args else err
    return Internal(f"the director failed: {type(err).__name__}: {detail}")
