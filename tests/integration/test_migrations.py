"""``huikuan init`` builds the schema by migrations that match the models exactly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from huikuan.core.db import make_engine, normalise_url
from huikuan.core.migrate import upgrade_to_head
from huikuan.models import metadata


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path, postgres_url) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    if postgres_url is None:
        pytest.skip("PostgreSQL not configured (set HUIKUAN_TEST_DATABASE_URL)")
    admin = create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    name = f"huikuan_mig_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield normalise_url(postgres_url).rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_build_the_schema_the_models_describe(empty_database: str) -> None:
    upgrade_to_head(empty_database)
    upgrade_to_head(empty_database)  # a second run changes nothing and does not fail
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        differences = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
        indexes = {ix["name"] for ix in inspect(conn).get_indexes("invoice")}
    engine.dispose()
    assert differences == []
    assert {"ix_invoice_open_items", "ix_invoice_history"} <= indexes
