"""Response shapes shared by the API routes. Money leaves as a decimal string with two places."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. not_found, invalid_input")
    message: str = Field(description="What went wrong, in the user's language")
    details: list[str] = Field(default_factory=list, description="Per-field problems, if any")


class ErrorResponse(BaseModel):
    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "Not signed in: send a bearer token"},
    403: {"model": ErrorResponse, "description": "The user's role may not do this"},
    404: {"model": ErrorResponse, "description": "Not found"},
    409: {"model": ErrorResponse, "description": "Conflict with the current state"},
    422: {"model": ErrorResponse, "description": "Invalid parameters"},
}


class PageMeta(BaseModel):
    page: int
    page_size: int
    total: int
