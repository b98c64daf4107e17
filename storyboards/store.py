"""The store: the record of truth for users, projects, storyboard versions, takes, cuts, chat, consents and audit.

SQLite inside the workspace by default; any SQLAlchemy URL (PostgreSQL) works. Opening a Store
applies the migrations in `storyboards/migrations/`. Every method is one short transaction in its
own session, so one Store can be shared by threads, and several processes can share one database:
on SQLite, write transactions start with BEGIN IMMEDIATE (they queue for the write lock instead of
failing half-way) and the journal is in WAL mode (readers never block the writer).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import event, func
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine, select

from .schema import Cut, Storyboard, Take, TakeStatus, utcnow
from .tables import AuditEntry, Consent, CutRow, Message, Project, StoryboardVersionRow, TakeRow, User
from .workspace import Workspace
from .yamlio import storyboard_to_dict

__all__ = [
    "Store", "StoryboardVersion", "User", "Project", "Message", "Consent", "AuditEntry",
    "alembic_config", "normalise_name", "hash_token", "MIGRATIONS_DIR", "MESSAGE_ROLES",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MESSAGE_ROLES = ("user", "director", "system")
MAX_WATERMARK_ID = 2**32 - 1
_PG_MIGRATION_LOCK = 0x5245454C  # any constant: serialises migrations across processes on PostgreSQL


class StoryboardVersion(BaseModel):
    """One immutable version of a project's storyboard."""

    model_config = ConfigDict(frozen=True)

    project_id: str
    number: int
    parent: int | None
    reason: str
    storyboard: Storyboard
    created_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_name(name: str) -> str:
    """'  Zoë  O'Brien ' -> "zoe o'brien": how consent names are matched (accents, case, spacing ignored)."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("\u2019", "'")
    text = re.sub(r"[^\w\s'-]", " ", text)
    return " ".join(text.split())


def alembic_config(url: str | None = None):
    """An alembic Config for our migrations, without any alembic.ini."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _sqlite_engine(url: str) -> Engine:
    u = make_url(url)
    memory = not u.database or u.database == ":memory:" or "mode=memory" in url
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if memory:
        kwargs["poolclass"] = StaticPool  # one shared connection, or every session sees an empty database
    else:
        Path(u.database).expanduser().absolute().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # pysqlite's own transaction handling begins too late (at the first write); take control of BEGIN.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # A write takes the write lock up front; a deferred BEGIN that later writes can fail with
        # "database is locked" instead of waiting its turn.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("rd_write") else "BEGIN")

    return engine


class Store:
    """`Store()` opens the workspace's database (DIRECTOR_HOME / DIRECTOR_DATABASE_URL) and migrates it."""

    def __init__(self, url: str | None = None, workspace: Workspace | None = None):
        self.workspace = workspace or Workspace()
        self.url = url or self.workspace.database_url
        if make_url(self.url).get_backend_name() == "sqlite":
            self.engine = _sqlite_engine(self.url)
        else:
            self.engine = create_engine(self.url, pool_pre_ping=True)
        self._write_engine = self.engine.execution_options(rd_write=True)
        self._migrate()

    def __repr__(self) -> str:
        return f"Store({make_url(self.url).render_as_string(hide_password=True)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ plumbing

    def _migrate(self) -> None:
        from alembic import command

        cfg = alembic_config()
        with self._write_engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def schema_revision(self) -> str | None:
        from alembic.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s:
            yield s

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with Session(self._write_engine, expire_on_commit=False) as s:
            with s.begin():
                yield s

    def _project(self, s: Session, project_id: str) -> Project:
        project = s.get(Project, project_id)
        if project is None:
            raise KeyError(f"no project '{project_id}' (projects are listed by `director` in the workspace {self.workspace.home})")
        return project

    # ------------------------------------------------------------------ users

    def create_user(self, name: str) -> tuple[User, str]:
        """A new user and their API token. Only the token's hash is stored: show it once."""
        name = name.strip()
        if not name or len(name) > 100:
            raise ValueError("a user name must be 1-100 characters")
        token = "rd_" + secrets.token_urlsafe(32)
        try:
            with self._write() as s:
                if s.exec(select(User).where(User.name == name)).first():
                    raise ValueError(f"a user named '{name}' already exists; choose another name")
                user = User(name=name, token_hash=hash_token(token))
                s.add(user)
        except IntegrityError:
            raise ValueError(f"a user named '{name}' already exists; choose another name") from None
        return user, token

    def rotate_token(self, name: str) -> str:
        """A new token for an existing user; their old token stops working."""
        token = "rd_" + secrets.token_urlsafe(32)
        with self._write() as s:
            user = s.exec(select(User).where(User.name == name)).first()
            if user is None:
                raise KeyError(f"no user named '{name}'; add one with `director users add {name}`")
            user.token_hash = hash_token(token)
            s.add(user)
        return token

    def login_token_for_first_user(self, name: str) -> str:
        """A token to log in as `name` (for `director serve` on one's own machine): the user is created
        when absent, else given a new token (only hashes are stored, so an old token cannot be shown)."""
        try:
            return self.create_user(name)[1]
        except ValueError:
            return self.rotate_token(name)

    def user_for_token(self, token: str | None) -> User | None:
        if not token:
            return None
        with self._read() as s:
            return s.exec(select(User).where(User.token_hash == hash_token(token))).first()

    def get_user(self, name: str) -> User | None:
        with self._read() as s:
            return s.exec(select(User).where(User.name == name)).first()

    def list_users(self) -> list[User]:
        with self._read() as s:
            return list(s.exec(select(User).order_by(User.name)))

    # ------------------------------------------------------------------ projects

    def create_project(self, owner: str, title: str, settings: dict[str, Any] | None = None) -> Project:
        for _ in range(10):
            try:
                with self._write() as s:
                    project = Project(id=f"p-{secrets.token_hex(4)}", owner=owner, title=title, settings=dict(settings or {}))
                    s.add(project)
                return project
            except IntegrityError:  # an id collision: 1 in 4 billion, try another
                continue
        raise RuntimeError("could not find a free project id")

    def get_project(self, project_id: str) -> Project:
        with self._read() as s:
            return self._project(s, project_id)

    def list_projects(self, owner: str | None = None) -> list[Project]:
        with self._read() as s:
            q = select(Project).order_by(Project.updated_at.desc())
            if owner is not None:
                q = q.where(Project.owner == owner)
            return list(s.exec(q))

    def update_project(self, project_id: str, *, title: str | None = None, settings: dict[str, Any] | None = None) -> Project:
        with self._write() as s:
            project = self._project(s, project_id)
            if title is not None:
                project.title = title
            if settings is not None:
                project.settings = dict(settings)
            project.updated_at = utcnow()
            s.add(project)
        return project

    # ------------------------------------------------------------------ members (directing together)

    def add_project_member(self, project_id: str, name: str) -> list[str]:
        """Let user `name` direct project `project_id` with its owner. Kept in the project's settings
        (no schema change). Returns the members, in the order they were added."""
        with self._write() as s:
            project = self._project(s, project_id)
            settings = dict(project.settings or {})
            members = [m for m in settings.get("members", []) if m != name] + [name]
            settings["members"] = members
            project.settings = settings
            project.updated_at = utcnow()
            s.add(project)
        return members

    def project_members(self, project_id: str) -> list[str]:
        """Users the owner invited to direct this project (the owner is not among them)."""
        return list(self.get_project(project_id).settings.get("members", []))

    # ------------------------------------------------------------------ storyboard versions

    def add_version(self, project_id: str, storyboard: Storyboard, reason: str, parent: int | None = None) -> int:
        """Store a new immutable version; returns its number (1, 2, ...).

        `parent` defaults to the latest version (None for the first); name another to branch
        from it, e.g. when restoring an old version.
        """
        reason = " ".join(reason.split()) or "no reason given"
        document = storyboard_to_dict(storyboard)
        for attempt in range(5):
            try:
                with self._write() as s:
                    project = self._project(s, project_id)
                    latest = s.exec(
                        select(func.max(StoryboardVersionRow.number)).where(StoryboardVersionRow.project_id == project_id)
                    ).one()
                    if parent is None:
                        parent_number = latest
                    else:
                        exists = s.exec(
                            select(StoryboardVersionRow.id).where(
                                StoryboardVersionRow.project_id == project_id, StoryboardVersionRow.number == parent
                            )
                        ).first()
                        if exists is None:
                            raise KeyError(f"project '{project_id}' has no version {parent} to be a parent")
                        parent_number = parent
                    number = (latest or 0) + 1
                    s.add(StoryboardVersionRow(
                        project_id=project_id, number=number, parent=parent_number, reason=reason[:500], document=document,
                    ))
                    project.updated_at = utcnow()
                    s.add(project)
                return number
            except IntegrityError:
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _version(row: StoryboardVersionRow) -> StoryboardVersion:
        return StoryboardVersion(
            project_id=row.project_id, number=row.number, parent=row.parent, reason=row.reason,
            storyboard=Storyboard.parse(row.document, f"project {row.project_id} version {row.number}"),
            created_at=row.created_at,
        )

    def get_version(self, project_id: str, number: int | None = None) -> StoryboardVersion:
        """Version `number`, or the latest. KeyError when there is none."""
        with self._read() as s:
            self._project(s, project_id)
            q = select(StoryboardVersionRow).where(StoryboardVersionRow.project_id == project_id)
            if number is None:
                row = s.exec(q.order_by(StoryboardVersionRow.number.desc())).first()
            else:
                row = s.exec(q.where(StoryboardVersionRow.number == number)).first()
        if row is None:
            what = "no storyboard yet" if number is None else f"no version {number}"
            raise KeyError(f"project '{project_id}' has {what}")
        return self._version(row)

    def list_versions(self, project_id: str) -> list[StoryboardVersion]:
        with self._read() as s:
            self._project(s, project_id)
            rows = s.exec(
                select(StoryboardVersionRow).where(StoryboardVersionRow.project_id == project_id).order_by(StoryboardVersionRow.number)
            ).all()
        return [self._version(r) for r in rows]

    # ------------------------------------------------------------------ takes

    @staticmethod
    def _take(row: TakeRow) -> Take:
        data = dict(row.payload)
        data["selected"] = row.selected
        data["status"] = row.status
        return Take.model_validate(data)

    @staticmethod
    def _unselect_others(s: Session, project_id: str, shot_id: str, take_id: str) -> None:
        rows = s.exec(
            select(TakeRow).where(
                TakeRow.project_id == project_id, TakeRow.shot_id == shot_id, TakeRow.selected == True, TakeRow.id != take_id  # noqa: E712
            )
        ).all()
        for other in rows:
            other.selected = False
            other.payload = {**other.payload, "selected": False}
            s.add(other)

    def add_take(self, project_id: str, take: Take) -> Take:
        """Record a take. A take added as selected unselects the shot's other takes."""
        with self._write() as s:
            self._project(s, project_id)
            if s.get(TakeRow, take.id) is not None:
                raise ValueError(f"a take with id '{take.id}' already exists; use update_take to change it")
            if take.selected:
                self._unselect_others(s, project_id, take.shot_id, take.id)
            s.add(TakeRow(
                id=take.id, project_id=project_id, shot_id=take.shot_id, key=take.key, spec_key=take.spec_key,
                status=TakeStatus(take.status).value, selected=take.selected, payload=take.model_dump(mode="json"),
                watermark_id=take.params.get("watermark_id"),
                created_at=take.created_at,
            ))
        return take

    def update_take(self, project_id: str, take: Take) -> Take:
        """Replace a stored take's data (e.g. with its critique); same selection rule as add_take."""
        with self._write() as s:
            row = s.get(TakeRow, take.id)
            if row is None or row.project_id != project_id:
                raise KeyError(f"no take '{take.id}' in project '{project_id}'")
            if take.selected:
                self._unselect_others(s, project_id, take.shot_id, take.id)
            row.shot_id, row.key, row.spec_key = take.shot_id, take.key, take.spec_key
            row.status, row.selected = TakeStatus(take.status).value, take.selected
            row.payload = take.model_dump(mode="json")
            s.add(row)
        return take

    def get_take(self, take_id: str) -> Take:
        with self._read() as s:
            row = s.get(TakeRow, take_id)
        if row is None:
            raise KeyError(f"no take '{take_id}'")
        return self._take(row)

    def take_project(self, take_id: str) -> str:
        with self._read() as s:
            row = s.get(TakeRow, take_id)
        if row is None:
            raise KeyError(f"no take '{take_id}'")
        return row.project_id

    def takes_for_shot(self, project_id: str, shot_id: str) -> list[Take]:
        """Every take of a shot, newest first."""
        return self.find_takes(project_id, shot_id=shot_id)

    def find_takes(
        self,
        project_id: str | None,
        *,
        spec_key: str | None = None,
        key: str | None = None,
        shot_id: str | None = None,
        status: TakeStatus | str | None = None,
    ) -> list[Take]:
        """Takes matching every filter given, newest first. `project_id=None` searches all projects
        (a take with the same `key` elsewhere has the same pixels and can be reused)."""
        q = select(TakeRow)
        if project_id is not None:
            q = q.where(TakeRow.project_id == project_id)
        if spec_key is not None:
            q = q.where(TakeRow.spec_key == spec_key)
        if key is not None:
            q = q.where(TakeRow.key == key)
        if shot_id is not None:
            q = q.where(TakeRow.shot_id == shot_id)
        if status is not None:
            q = q.where(TakeRow.status == TakeStatus(status).value)
        with self._read() as s:
            rows = s.exec(q.order_by(TakeRow.created_at.desc(), TakeRow.id.desc())).all()
        return [self._take(r) for r in rows]

    def select_take(self, project_id: str, take_id: str) -> Take:
        """Make this the shot's selected take (every other take of the shot is unselected)."""
        with self._write() as s:
            row = s.get(TakeRow, take_id)
            if row is None or row.project_id != project_id:
                raise KeyError(f"no take '{take_id}' in project '{project_id}'")
            self._unselect_others(s, project_id, row.shot_id, take_id)
            row.selected = True
            row.payload = {**row.payload, "selected": True}
            s.add(row)
        return self._take(row)

    def selected_take(self, project_id: str, shot_id: str, spec_key: str | None = None) -> Take | None:
        """The shot's selected take; with `spec_key`, only if it was made for that spec (still valid)."""
        q = select(TakeRow).where(TakeRow.project_id == project_id, TakeRow.shot_id == shot_id, TakeRow.selected == True)  # noqa: E712
        if spec_key is not None:
            q = q.where(TakeRow.spec_key == spec_key)
        with self._read() as s:
            row = s.exec(q).first()
        return None if row is None else self._take(row)

    # ------------------------------------------------------------------ cuts

    @staticmethod
    def _cut(row: CutRow) -> Cut:
        return Cut(
            id=row.id, project_id=row.project_id, version=row.version, file=row.file, preset=row.preset,
            take_ids=list(row.take_ids), manifest=dict(row.manifest), created_at=row.created_at,
        )

    def new_watermark_id(self) -> int:
        """A random id in 1..2**32-1 that no cut or take uses yet (it is what the invisible watermark carries)."""
        rng = secrets.SystemRandom()
        with self._read() as s:
            while True:
                candidate = rng.randint(1, MAX_WATERMARK_ID)
                if (s.exec(select(CutRow.id).where(CutRow.watermark_id == candidate)).first() is None
                        and s.exec(select(TakeRow.id).where(TakeRow.watermark_id == candidate)).first() is None):
                    return candidate

    def resolve_watermark(self, watermark_id: int) -> dict[str, Any] | None:
        """What a watermark payload points at: a cut, or a take (and the newest cut that uses it)."""
        cut = self.cut_by_watermark(watermark_id)
        if cut is not None:
            return {"kind": "cut", "project_id": cut.project_id, "cut_id": cut.id, "version": cut.version}
        with self._read() as s:
            row = s.exec(select(TakeRow).where(TakeRow.watermark_id == int(watermark_id))).first()
        if row is None:
            return None
        cuts = [c for c in self.list_cuts(row.project_id) if row.id in c.take_ids]
        return {"kind": "take", "project_id": row.project_id, "take_id": row.id, "shot_id": row.shot_id,
                "cut_id": cuts[-1].id if cuts else None, "version": cuts[-1].version if cuts else None}

    def add_cut(self, cut: Cut, watermark_id: int) -> Cut:
        if not (1 <= watermark_id <= MAX_WATERMARK_ID):
            raise ValueError(f"watermark id {watermark_id} must be between 1 and {MAX_WATERMARK_ID} (use new_watermark_id())")
        try:
            with self._write() as s:
                self._project(s, cut.project_id)
                if s.get(CutRow, cut.id) is not None:
                    raise ValueError(f"a cut with id '{cut.id}' already exists")
                s.add(CutRow(
                    id=cut.id, project_id=cut.project_id, version=cut.version, file=cut.file, preset=cut.preset,
                    take_ids=list(cut.take_ids), watermark_id=watermark_id, manifest=cut.manifest, created_at=cut.created_at,
                ))
        except IntegrityError:
            raise ValueError(f"watermark id {watermark_id} is already used by another cut; take a new_watermark_id()") from None
        return cut

    def get_cut(self, cut_id: str) -> Cut:
        with self._read() as s:
            row = s.get(CutRow, cut_id)
        if row is None:
            raise KeyError(f"no cut '{cut_id}'")
        return self._cut(row)

    def list_cuts(self, project_id: str) -> list[Cut]:
        """A project's cuts, oldest first."""
        with self._read() as s:
            rows = s.exec(select(CutRow).where(CutRow.project_id == project_id).order_by(CutRow.created_at, CutRow.id)).all()
        return [self._cut(r) for r in rows]

    def cut_by_watermark(self, watermark_id: int) -> Cut | None:
        with self._read() as s:
            row = s.exec(select(CutRow).where(CutRow.watermark_id == int(watermark_id))).first()
        return None if row is None else self._cut(row)

    def watermark_for_cut(self, cut_id: str) -> int:
        with self._read() as s:
            row = s.get(CutRow, cut_id)
        if row is None:
            raise KeyError(f"no cut '{cut_id}'")
        return row.watermark_id

    # ------------------------------------------------------------------ chat

    def add_message(self, project_id: str, role: str, text: str) -> Message:
        if role not in MESSAGE_ROLES:
            raise ValueError(f"message role '{role}' is not one of: {', '.join(MESSAGE_ROLES)}")
        with self._write() as s:
            project = self._project(s, project_id)
            message = Message(project_id=project_id, role=role, text=text)
            s.add(message)
            project.updated_at = utcnow()
            s.add(project)
        return message

    def messages(self, project_id: str, limit: int | None = None) -> list[Message]:
        """The transcript in order; with `limit`, its last `limit` messages."""
        with self._read() as s:
            q = select(Message).where(Message.project_id == project_id).order_by(Message.id.desc())
            if limit is not None:
                q = q.limit(limit)
            return list(reversed(s.exec(q).all()))

    # ------------------------------------------------------------------ consents

    def add_consent(self, name: str, reference: str | None = None, scope: str = "", expires: date | None = None) -> Consent:
        """Record that a real person consented to their likeness being used (within `scope`, until `expires`)."""
        key = normalise_name(name)
        if not key:
            raise ValueError("a consent needs the person's name")
        with self._write() as s:
            consent = Consent(name=name.strip(), normalised_name=key, reference=reference, scope=scope, expires=expires)
            s.add(consent)
        return consent

    def revoke_consent(self, name: str, at: datetime | None = None) -> int:
        """Revoke every active consent for this person; returns how many were revoked."""
        at = at or utcnow()
        with self._write() as s:
            rows = s.exec(
                select(Consent).where(Consent.normalised_name == normalise_name(name), Consent.revoked_at == None)  # noqa: E711
            ).all()
            for row in rows:
                row.revoked_at = at
                s.add(row)
        return len(rows)

    def active_consents(self, at: datetime | None = None) -> list[Consent]:
        at = at or utcnow()
        with self._read() as s:
            rows = s.exec(select(Consent).order_by(Consent.id)).all()
        return [c for c in rows if c.active_at(at)]

    def consent_for(self, name: str, at: datetime | None = None) -> Consent | None:
        """The person's active consent (matched by normalised name), or None."""
        at = at or utcnow()
        with self._read() as s:
            rows = s.exec(select(Consent).where(Consent.normalised_name == normalise_name(name)).order_by(Consent.id.desc())).all()
        return next((c for c in rows if c.active_at(at)), None)

    # ------------------------------------------------------------------ audit

    def audit(self, actor: str, event: str, detail: dict[str, Any] | None = None) -> AuditEntry:
        with self._write() as s:
            entry = AuditEntry(actor=actor, event=event, detail=dict(detail or {}))
            s.add(entry)
        return entry

    def audit_log(self, limit: int = 100, event: str | None = None) -> list[AuditEntry]:
        """Newest first."""
        with self._read() as s:
            q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            if event is not None:
                q = q.where(AuditEntry.event == event)
            return list(s.exec(q))
