"""Shared fixtures: every database test runs on SQLite and, when reachable, on PostgreSQL.

PostgreSQL is found through ``HUIKUAN_TEST_DATABASE_URL`` (the test command sets it after
checking the local server). A fresh database is created for the run and dropped after it.
Under CI (``CI=true``) a missing PostgreSQL fails the run instead of quietly skipping it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from huikuan.core.company import create_company
from huikuan.core.db import make_engine, normalise_url, session_factory
from huikuan.core.migrate import alembic_config
from huikuan.core.models import Company
from huikuan.models import metadata

BACKENDS = ["sqlite", "postgresql"]


def _postgres_admin_url() -> str | None:
    return os.environ.get("HUIKUAN_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A database of its own for this test run on the PostgreSQL server, dropped afterwards."""
    admin_url = _postgres_admin_url()
    if not admin_url:
        if os.environ.get("CI"):
            pytest.fail("CI must test on PostgreSQL: HUIKUAN_TEST_DATABASE_URL is not set")
        yield None
        return
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"huikuan_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = normalise_url(admin_url).rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    command.stamp(alembic_config(url), "head")
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path, postgres_url: str | None) -> str:  # type: ignore[no-untyped-def]
    """A database with the current schema and no rows, on each backend."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'huikuan.db'}"
        engine = make_engine(url)
        metadata.create_all(engine)
        engine.dispose()
        # The schema is built from the models for speed; mark it as migrated, as init would.
        command.stamp(alembic_config(url), "head")
        return url
    if postgres_url is None:
        pytest.skip("PostgreSQL not configured (set HUIKUAN_TEST_DATABASE_URL)")
    engine = make_engine(postgres_url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)  # alembic_version is kept
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return postgres_url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work the test commits or rolls back itself; closed afterwards."""
    with factory() as session:
        yield session


@pytest.fixture
def company(session: Session) -> Company:
    company = create_company(session, code="acme", name="示例贸易有限公司")
    session.commit()
    return company
