"""Alembic environment for the Reel Director store.

`Store` runs migrations programmatically and hands over an open connection (already inside a
transaction holding the database's write lock), so no alembic.ini is needed. To author a new
revision after changing tables.py:

    from alembic import command
    from storyboards.store import alembic_config
    command.revision(alembic_config("sqlite:///scratch.db"), "add X", autogenerate=True)

then read and edit the generated file in migrations/versions/ (keep revisions hand-checked).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from storyboards import tables  # noqa: F401  (registers the tables on the metadata)

config = context.config
target_metadata = SQLModel.metadata


def _configure_and_run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise RuntimeError("no database: pass a connection in config.attributes['connection'] or -x url=...")
    engine = create_engine(url)
    with engine.begin() as conn:
        _configure_and_run(conn)
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
