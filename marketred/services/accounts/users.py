"""Accounts: registration, password sign-in, admin creation of staff and operators."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.accounts import Principal, RegisterBuyer, Role, UserOut
from marketred.services.accounts import credentials, sessions
from marketred.services.accounts.passwords import hash_password, is_common_password, verify_password
from marketred.services.errors import Conflict, InvalidInput, NotFound, Reason, Unauthorized
from marketred.store.models import User, Vendor
from marketred.store.repositories import users as users_repo
from marketred.store.repositories import vendors as vendors_repo

MIN_PASSWORD_LENGTH = 10


EMAIL_TAKEN = Reason("EMAIL_TAKEN", "an account with this email already exists")


def check_new_password(password: str, email: str = "") -> None:
    """Minimum length, not a well-known password, not the email itself."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "password too short",
            errors=[
                (
                    "password",
                    Reason(
                        "PASSWORD_TOO_SHORT",
                        f"must have at least {MIN_PASSWORD_LENGTH} characters",
                        n=MIN_PASSWORD_LENGTH,
                    ),
                )
            ],
        )
    local = email.split("@")[0].lower()
    if is_common_password(password) or (len(local) >= 4 and password.lower() == local):
        raise InvalidInput(
            "password too common",
            errors=[
                (
                    "password",
                    Reason("PASSWORD_COMMON", "is too common or easy to guess; choose another"),
                )
            ],
        )


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        role=user.role,
        vendor_id=user.vendor_id,
        email=user.email,
    )


async def to_user_out(session: AsyncSession, user: User) -> UserOut:
    vendor = await session.get(Vendor, user.vendor_id) if user.vendor_id else None
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        vendor=vendor.slug if vendor else None,
    )


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str | None,
    role: Role,
    name: str = "",
    vendor_slug: str | None = None,
) -> User:
    email = email.strip().lower()
    if password is not None:
        check_new_password(password, email)
    vendor_id: uuid.UUID | None = None
    if role == "vendor":
        if not vendor_slug:
            raise InvalidInput("vendor staff need a vendor", errors=[("vendor", "required")])
        vendor = await vendors_repo.get_by_slug(session, vendor_slug)
        if vendor is None:
            raise NotFound(f"vendor {vendor_slug!r} does not exist")
        vendor_id = vendor.id
    if await users_repo.get_by_email(session, email) is not None:
        raise Conflict(EMAIL_TAKEN, errors=[("email", Reason("EMAIL_TAKEN", "taken"))])
    user = User(
        email=email,
        password_hash=await hash_password(password) if password is not None else None,
        role=role,
        name=name,
        vendor_id=vendor_id,
    )
    try:
        async with session.begin_nested():
            await users_repo.add(session, user)
    except IntegrityError as exc:  # a concurrent registration of the same email
        raise Conflict(EMAIL_TAKEN) from exc
    return user


async def register_buyer(session: AsyncSession, body: RegisterBuyer) -> User:
    return await create_user(
        session, email=str(body.email), password=body.password, role="buyer", name=body.name
    )


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    user = await users_repo.get_by_email(session, email)
    ok = await verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        raise Unauthorized("wrong email or password")
    return user


async def find_by_email(session: AsyncSession, email: str) -> User | None:
    return await users_repo.get_by_email(session, email)


async def get_active_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await users_repo.get(session, user_id)
    if user is None or not user.active:
        raise Unauthorized("the account no longer exists or is disabled")
    return user


async def set_password(session: AsyncSession, user: User, new_password: str) -> None:
    """Change the password and end every session, API token and JWT of the user (they
    sign in again)."""
    check_new_password(new_password, user.email)
    user.password_hash = await hash_password(new_password)
    await session.flush()
    await credentials.revoke_all(session, user)


async def reset_password(session: AsyncSession, user: User, new_password: str) -> None:
    """A password set through a mailed reset link; the link also proves the mailbox."""
    await set_password(session, user, new_password)
    await mark_email_verified(session, user)


async def change_password(
    session: AsyncSession, user_id: uuid.UUID, current: str, new_password: str
) -> User:
    user = await get_active_user(session, user_id)
    if not await verify_password(user.password_hash, current):
        raise InvalidInput(
            "wrong password",
            errors=[("current_password", Reason("PASSWORD_WRONG", "is not correct"))],
        )
    await set_password(session, user, new_password)
    return user


async def mark_email_verified(session: AsyncSession, user: User) -> None:
    if user.email_verified_at is None:
        user.email_verified_at = sessions.now_utc()
        await session.flush()
