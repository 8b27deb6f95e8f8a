"""Account shapes crossing the API boundary."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field

from marketred.schemas.common import StrictModel

Role = Literal["buyer", "vendor", "operator"]


class RegisterBuyer(StrictModel):
    email: EmailStr
    password: str = Field(min_length=10, max_length=200)
    name: str = Field(default="", max_length=200)


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    role: Role
    vendor: str | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class Principal(BaseModel):
    """Who is calling: what every service receives to decide ownership."""

    user_id: uuid.UUID
    role: Role
    vendor_id: uuid.UUID | None = None
    email: str = ""
    # Authenticated by a personal API token: such a caller may not mint more tokens.
    via_personal_token: bool = False

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"


class PasswordResetRequest(StrictModel):
    email: EmailStr


class PasswordResetConfirm(StrictModel):
    token: str = Field(min_length=10, max_length=200)
    password: str = Field(min_length=1, max_length=200)


class ChangePassword(StrictModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)


class ApiTokenCreate(StrictModel):
    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class ApiTokenOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime | None = None


class ApiTokenCreated(ApiTokenOut):
    """Returned once, at creation: `token` is never shown again."""

    token: str
