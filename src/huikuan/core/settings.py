"""Settings come from the environment; every command may override the database with --db."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///huikuan.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    currency: str = "CNY"

    @classmethod
    def from_env(cls, database_url: str | None = None) -> Settings:
        return cls(
            database_url=database_url
            or os.environ.get("HUIKUAN_DATABASE_URL")
            or DEFAULT_DATABASE_URL,
            currency=os.environ.get("HUIKUAN_CURRENCY", "CNY"),
        )
