"""Domain errors. Rejected commands raise; batch operations return every problem as data."""

from __future__ import annotations

from dataclasses import dataclass


class HuikuanError(Exception):
    """Base of every error a user can cause. ``code`` is stable; the message is for people."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(HuikuanError):
    code = "not_found"


class Conflict(HuikuanError):
    code = "conflict"


class InvalidInput(HuikuanError):
    code = "invalid_input"


class NotAuthenticated(HuikuanError):
    code = "not_authenticated"


class Forbidden(HuikuanError):
    code = "forbidden"


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row of an imported file: which row, which column, why."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"第 {self.row} 行 [{self.column}]: {self.reason}"


class ImportRejected(HuikuanError):
    """A file with bad rows; nothing from it was written."""

    code = "import_rejected"

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            f"{len(errors)} 处错误，未导入任何数据 / {len(errors)} errors, nothing imported"
        )
        self.errors = errors


def prefixed(prefix: str, message: str) -> str:
    """Put ``prefix`` (a field name) before both halves of a bilingual ``"中文 / English"``."""
    zh, sep, en = message.partition(" / ")
    return f"{prefix}: {zh} / {prefix}: {en}" if sep else f"{prefix}: {message}"


def joined(messages: list[str]) -> str:
    """Several bilingual messages as one: the Chinese halves, then the English halves."""
    halves = [m.partition(" / ") for m in messages]
    zh = "；".join(h[0] for h in halves)
    en = "; ".join(h[2] or h[0] for h in halves)
    return f"{zh} / {en}"
