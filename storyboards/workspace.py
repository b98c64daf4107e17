"""The workspace: one folder holding the database and every artifact Reel Director makes.

    director-workspace/            DIRECTOR_HOME
      director.db                  SQLite, unless DIRECTOR_DATABASE_URL names another database
      takes/ab/abcdef....mp4       one file per take, named by its request key
      projects/p-1a2b3c4d/         a project's outputs: final.mp4, storyboard.yaml, manifest.json, ...
      keys/                        signing certificates and keys
      uploads/                     files people sent (reference images, source clips)
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

_PROJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_KEY = re.compile(r"^[0-9a-f]{8,128}$")


class WorkspaceSettings(BaseSettings):
    """Read from the environment: DIRECTOR_HOME and DIRECTOR_DATABASE_URL."""

    model_config = SettingsConfigDict(env_prefix="DIRECTOR_", extra="ignore")

    home: Path = Path("./director-workspace")
    database_url: str | None = None


class Workspace:
    def __init__(self, home: str | os.PathLike[str] | None = None, settings: WorkspaceSettings | None = None):
        self.settings = settings or WorkspaceSettings()
        # Absolute from the start: a later chdir must not move the workspace.
        self.home = Path(os.path.abspath(os.path.expanduser(home if home is not None else self.settings.home)))

    def __repr__(self) -> str:
        return f"Workspace({str(self.home)!r})"

    @property
    def db_path(self) -> Path:
        return self.home / "director.db"

    @property
    def database_url(self) -> str:
        """DIRECTOR_DATABASE_URL when set, else the SQLite file inside the workspace."""
        return self.settings.database_url or f"sqlite:///{self.db_path.as_posix()}"

    @property
    def takes_dir(self) -> Path:
        return self.home / "takes"

    @property
    def projects_dir(self) -> Path:
        return self.home / "projects"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    def take_path(self, key: str, suffix: str = ".mp4") -> Path:
        """takes/<key[:2]>/<key>.mp4: sharded so no folder holds millions of files."""
        if not _KEY.match(key):
            raise ValueError(f"take key {key!r} is not a lowercase hex digest (use storyboards.hashing.request_key)")
        return self.takes_dir / key[:2] / f"{key}{suffix}"

    def project_dir(self, project_id: str) -> Path:
        """projects/<project_id>/: where a project's final.mp4, storyboard.yaml, manifest.json, ... go."""
        if not _PROJECT_ID.match(project_id):
            raise ValueError(f"project id {project_id!r} may hold only letters, digits, '-' and '_' (e.g. 'p-1a2b3c4d')")
        return self.projects_dir / project_id

    def ensure(self) -> Workspace:
        """Create the workspace folders (idempotent)."""
        for d in (self.home, self.takes_dir, self.projects_dir, self.keys_dir, self.uploads_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self

    def relative(self, path: str | os.PathLike[str]) -> str:
        """A path inside the workspace as stored in the database (Take.file): relative, forward slashes."""
        p = Path(os.path.abspath(path))
        try:
            return p.relative_to(self.home).as_posix()
        except ValueError:
            raise ValueError(f"{p} is not inside the workspace {self.home}") from None

    def resolve(self, relative: str | os.PathLike[str]) -> Path:
        """The absolute path of a workspace-relative path (absolute paths pass through)."""
        p = Path(relative)
        return p if p.is_absolute() else self.home / p
