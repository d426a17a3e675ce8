"""Request and response bodies of the API (they are the OpenAPI schemas tools and tests check against)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ppcti.store import JobState, Role


class SignIn(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    id: str
    email: str
    role: Role
    holder: str | None
    csrf_token: str | None = Field(None, description="Send as X-CSRF-Token with changes made by cookie.")


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once; store it like a password.")


class HolderCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")


class HolderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    created_at: datetime


class UserCreate(BaseModel):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=12, max_length=1024)
    role: Role = Role.HOLDER_USER
    holder_id: str | None = Field(None, description="Platform admins name the holder; holder admins may not.")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    role: Role
    holder_id: str | None
    created_at: datetime


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    state: JobState
    stage: str | None
    progress: int = Field(ge=0, le=100)
    attempts: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    results: dict[str, Any]


class UploadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    filename: str
    size: int
    sha256: str
    options: dict[str, Any]
    created_at: datetime
    job: JobOut
    capabilities: list[str] = Field(
        default_factory=list, description="Result views available for this upload (see /capabilities)."
    )


class CapabilityOut(BaseModel):
    name: str
    title: str
    requires: list[str]


class Page(BaseModel):
    total: int
    offset: int
    items: list[dict[str, Any]]
