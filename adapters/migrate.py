"""Schema migrations with Alembic, run programmatically on a given engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

__all__ = [
    "SchemaOutOfDate",
    "current_revision",
    "downgrade",
    "ensure_sqlite_directory",
    "head_revision",
    "upgrade",
]

_SCRIPTS = Path(__file__).parent / "migrations"


class SchemaOutOfDate(RuntimeError):
    """The database schema is older (or newer) than this version of Peerloop expects."""

    def __init__(self, current: str | None, head: str) -> None:
        self.current = current
        self.head = head
        super().__init__(
            f"the database schema is at {current or 'nothing (empty database)'}, "
            f"this Peerloop needs {head}: run `peerloop db upgrade`"
        )


def _config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    return cfg


def ensure_sqlite_directory(engine: Engine) -> None:
    """Create the directory a SQLite database file goes in, if it does not exist yet.

    SQLite creates a missing file but not its directory ("unable to open database file").
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.query.get("uri"):
        return  # a server database, or a `file:` URI that says itself how to open it
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _run(engine: Engine, fn: str, *args: object) -> None:
    ensure_sqlite_directory(engine)
    cfg = _config(engine)
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            with conn.begin():
                cfg.attributes["connection"] = conn
                getattr(command, fn)(cfg, *args)
            return
        # SQLite alters a table by rebuilding it (copy, drop, rename). With foreign keys on,
        # dropping a table that rows elsewhere refer to fails, so they are off while migrating
        # and checked before the commit, as SQLite's own procedure for schema changes says. The
        # pragma is ignored inside a transaction: it goes to the driver before BEGIN.
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                getattr(command, fn)(cfg, *args)
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            driver.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, "downgrade", revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a migration from the difference between the tables and the database."""
    _run(engine, "revision", message, True)


def head_revision() -> str:
    head = ScriptDirectory(str(_SCRIPTS)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_schema(engine: Engine) -> None:
    """Raise SchemaOutOfDate unless the database is at the newest migration."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDate(current, head)
