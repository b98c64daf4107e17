"""The store: the record of truth for users, projects, storyboard versions, takes, cuts, chat,
consents, audit and render jobs.

One `Database` (one engine, one session factory, the migrations) and one small repository per
entity, each in its own module here:

    store.users      users and API tokens          store.cuts        assembled films
    store.projects   projects                      store.watermarks  watermark ids -> cut / take
    store.versions   storyboard versions (CAS)     store.chat        the chat transcript
    store.takes      takes and their selection     store.consents    likeness consent
    store.audit_trail  the audit log               store.renders     render jobs and their shots

`Store` keeps the flat methods every caller used before the split (`store.add_version(...)`), each
forwarding to its repository; new code may call the repositories directly (`store.versions.add(...)`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import make_url

from ..schema import Cut, Storyboard, Take, TakeStatus
from ..tables import AuditEntry, Consent, Message, Project, User
from ..workspace import Workspace
from .audit import AuditTrail
from .chat import MESSAGE_ROLES, Chat
from .consent import Consents, normalise_name
from .cuts import Cuts
from .database import MIGRATIONS_DIR, Database, VersionConflict, alembic_config
from .projects import Projects
from .renders import RenderJob, Renders, RenderShot
from .takes import Takes
from .users import Users, hash_token
from .versions import StoryboardVersion, Versions
from .watermarks import MAX_WATERMARK_ID, Watermarks

__all__ = [
    "Store", "Database", "RenderJob", "RenderShot", "StoryboardVersion", "VersionConflict",
    "User", "Project", "Message", "Consent", "AuditEntry",
    "alembic_config", "normalise_name", "hash_token", "MIGRATIONS_DIR", "MESSAGE_ROLES", "MAX_WATERMARK_ID",
]


class Store:
    """`Store()` opens the workspace's database (DIRECTOR_HOME / DIRECTOR_DATABASE_URL) and migrates it."""

    def __init__(self, url: str | None = None, workspace: Workspace | None = None):
        self.workspace = workspace or Workspace()
        self.url = url or self.workspace.database_url
        self.db = Database(self.url)
        self.engine = self.db.engine
        self.users = Users(self.db)
        self.projects = Projects(self.db)
        self.versions = Versions(self.db)
        self.takes = Takes(self.db)
        self.cuts = Cuts(self.db)
        self.watermarks = Watermarks(self.db)
        self.chat = Chat(self.db)
        self.consents = Consents(self.db)
        self.audit_trail = AuditTrail(self.db)
        self.renders = Renders(self.db)

    def __repr__(self) -> str:
        return f"Store({make_url(self.url).render_as_string(hide_password=True)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def schema_revision(self) -> str | None:
        return self.db.schema_revision()

    # ---------------------------------------------------------------- users (store.users)
    def create_user(self, name: str) -> tuple[User, str]:
        return self.users.create(name)

    def rotate_token(self, name: str) -> str:
        return self.users.rotate_token(name)

    def login_token_for_first_user(self, name: str) -> str:
        return self.users.login_token(name)

    def user_for_token(self, token: str | None) -> User | None:
        return self.users.for_token(token)

    def get_user(self, name: str) -> User | None:
        return self.users.get(name)

    def list_users(self) -> list[User]:
        return self.users.list()

    # ---------------------------------------------------------------- projects (store.projects)
    def create_project(self, owner: str, title: str, settings: dict[str, Any] | None = None) -> Project:
        return self.projects.create(owner, title, settings)

    def get_project(self, project_id: str) -> Project:
        return self.projects.get(project_id)

    def list_projects(self, owner: str | None = None) -> list[Project]:
        return self.projects.list(owner)

    def update_project(self, project_id: str, *, title: str | None = None, settings: dict[str, Any] | None = None) -> Project:
        return self.projects.update(project_id, title=title, settings=settings)

    def add_project_member(self, project_id: str, name: str) -> list[str]:
        return self.projects.add_member(project_id, name)

    def project_members(self, project_id: str) -> list[str]:
        return self.projects.members(project_id)

    # ---------------------------------------------------------------- versions (store.versions)
    def add_version(self, project_id: str, storyboard: Storyboard, reason: str, parent: int | None = None) -> int:
        return self.versions.add(project_id, storyboard, reason, parent)

    def get_version(self, project_id: str, number: int | None = None) -> StoryboardVersion:
        return self.versions.get(project_id, number)

    def list_versions(self, project_id: str) -> list[StoryboardVersion]:
        return self.versions.list(project_id)

    # ---------------------------------------------------------------- takes (store.takes)
    def add_take(self, project_id: str, take: Take) -> Take:
        return self.takes.add(project_id, take)

    def update_take(self, project_id: str, take: Take) -> Take:
        return self.takes.update(project_id, take)

    def get_take(self, take_id: str) -> Take:
        return self.takes.get(take_id)

    def take_project(self, take_id: str) -> str:
        return self.takes.project_of(take_id)

    def takes_for_shot(self, project_id: str, shot_id: str) -> list[Take]:
        """Every take of a shot, newest first."""
        return self.takes.find(project_id, shot_id=shot_id)

    def find_takes(self, project_id: str | None, *, spec_key: str | None = None, key: str | None = None,
                   shot_id: str | None = None, status: TakeStatus | str | None = None) -> list[Take]:
        return self.takes.find(project_id, spec_key=spec_key, key=key, shot_id=shot_id, status=status)

    def select_take(self, project_id: str, take_id: str) -> Take:
        return self.takes.select(project_id, take_id)

    def selected_take(self, project_id: str, shot_id: str, spec_key: str | None = None) -> Take | None:
        return self.takes.selected(project_id, shot_id, spec_key)

    # ---------------------------------------------------------------- cuts and watermarks
    def new_watermark_id(self) -> int:
        return self.watermarks.new_id()

    def resolve_watermark(self, watermark_id: int) -> dict[str, Any] | None:
        return self.watermarks.resolve(watermark_id)

    def add_cut(self, cut: Cut, watermark_id: int) -> Cut:
        return self.cuts.add(cut, watermark_id)

    def get_cut(self, cut_id: str) -> Cut:
        return self.cuts.get(cut_id)

    def list_cuts(self, project_id: str) -> list[Cut]:
        return self.cuts.list(project_id)

    def cut_by_watermark(self, watermark_id: int) -> Cut | None:
        return self.cuts.by_watermark(watermark_id)

    def watermark_for_cut(self, cut_id: str) -> int:
        return self.cuts.watermark_of(cut_id)

    # ---------------------------------------------------------------- chat (store.chat)
    def add_message(self, project_id: str, role: str, text: str) -> Message:
        return self.chat.add(project_id, role, text)

    def messages(self, project_id: str, limit: int | None = None) -> list[Message]:
        return self.chat.transcript(project_id, limit)

    # ---------------------------------------------------------------- consents (store.consents)
    def add_consent(self, name: str, reference: str | None = None, scope: str = "", expires: date | None = None) -> Consent:
        return self.consents.add(name, reference, scope, expires)

    def revoke_consent(self, name: str, at: datetime | None = None) -> int:
        return self.consents.revoke(name, at)

    def active_consents(self, at: datetime | None = None) -> list[Consent]:
        return self.consents.active(at)

    def consent_for(self, name: str, at: datetime | None = None) -> Consent | None:
        return self.consents.for_person(name, at)

    # ---------------------------------------------------------------- audit (store.audit_trail)
    def audit(self, actor: str, event: str, detail: dict[str, Any] | None = None) -> AuditEntry:
        return self.audit_trail.record(actor, event, detail)

    def audit_log(self, limit: int = 100, event: str | None = None) -> list[AuditEntry]:
        return self.audit_trail.recent(limit, event)
