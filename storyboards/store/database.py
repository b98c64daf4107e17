"""One engine and one session factory for every repository of the store.

SQLite inside the workspace by default; any SQLAlchemy URL (PostgreSQL) works. Opening a Database
applies the migrations in `storyboards/migrations/`. Every repository method is one short
transaction in its own session, so one Database can be shared by threads, and several processes
can share one database: on SQLite, write transactions start with BEGIN IMMEDIATE (they queue for the
write lock instead of failing half-way) and the journal is in WAL mode (readers never block the writer).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from ..tables import Project

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_PG_MIGRATION_LOCK = 0x5245454C  # any constant: serialises migrations across processes on PostgreSQL


class VersionConflict(Exception):
    """Someone else added a version first: the version this change was made from is no longer the latest.

    The storyboard layer's own error (it imports nothing of the agent); the session turns it into a
    coded Conflict for people.
    """

    def __init__(self, project_id: str, parent: int, head: int | None):
        self.project_id, self.parent, self.head = project_id, parent, head
        super().__init__(
            f"project '{project_id}' changed while this edit was made: it was made from version {parent}, "
            f"but version {head} is the latest now"
        )


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
        Path(u.database or "").expanduser().absolute().parent.mkdir(parents=True, exist_ok=True)
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


def _postgres_url(url: str) -> str:
    # "postgresql://" means psycopg2 to SQLAlchemy; the driver we declare (the `postgres` extra) is psycopg 3.
    u = make_url(url)
    if u.drivername == "postgresql":
        return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


class Database:
    """The engine, the session factory and the migrations; repositories borrow sessions from it."""

    def __init__(self, url: str):
        self.url = url
        if make_url(url).get_backend_name() == "sqlite":
            self.engine = _sqlite_engine(url)
        else:
            self.engine = create_engine(_postgres_url(url), pool_pre_ping=True)
        self._write_engine = self.engine.execution_options(rd_write=True)
        self._migrate()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

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
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s:
            yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction; on SQLite it holds the write lock from its first statement."""
        with Session(self._write_engine, expire_on_commit=False) as s:
            with s.begin():
                yield s


def project_or_raise(s: Session, project_id: str, *, lock: bool = False) -> Project:
    """The project, or KeyError. `lock`: hold its row until the transaction ends (PostgreSQL's
    SELECT ... FOR UPDATE; SQLite's write transactions are serial already), so writers of one
    project's versions take turns instead of colliding."""
    project = s.get(Project, project_id, with_for_update=lock)
    if project is None:
        raise KeyError(f"no project '{project_id}' (`director projects` lists yours)")
    return project
