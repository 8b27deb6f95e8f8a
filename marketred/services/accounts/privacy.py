"""A buyer's rights over their personal data: export, correction, erasure (Ley 21.719).

Erasure keeps what accounting law requires — quotes with their lines and amounts, the
ledger, payouts, payments — under the account's id, which no longer leads to a person:
the account row stays (inactive, `erased_at`, a pseudonymous email) and everything that
described the person is cleared or deleted. The buyer's data key is shredded in the same
transaction, so the personal data in Temporal histories, encrypted with it
(integrations/payload_codec.py), can no longer be read by anyone. docs/privacy.md.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from marketred.schemas import search_attributes as sa
from marketred.schemas.accounts import Principal
from marketred.schemas.privacy import (
    CorrectAccount,
    EraseAccount,
    ErasureOut,
    ExportedAccount,
    ExportedCartItem,
    ExportedQuote,
    ExportedSession,
    PersonalDataExport,
)
from marketred.schemas.quotes import FINAL_STATUSES, quote_number_label
from marketred.services.accounts import email_tokens
from marketred.services.accounts import users as accounts
from marketred.services.accounts.passwords import verify_password
from marketred.services.errors import Conflict, Forbidden, InvalidInput, Reason, Unavailable
from marketred.store.models import User
from marketred.store.repositories import data_keys
from marketred.store.repositories import personal_data as repo
from marketred.store.repositories import users as users_repo


def pseudonymous_email(user_id: uuid.UUID) -> str:
    """What an erased account's email becomes: unique, undeliverable (.invalid)."""
    return f"borrado-{user_id}@marketred.invalid"


async def _buyer(session: AsyncSession, who: Principal) -> User:
    if who.role != "buyer":
        raise Forbidden("these rights are exercised here by buyers; staff accounts ask an operator")
    return await accounts.get_active_user(session, who.user_id)


async def export(session: AsyncSession, who: Principal) -> PersonalDataExport:
    user = await _buyer(session, who)
    quotes = await repo.quotes_of(session, user.id)
    lines, events = await repo.lines_and_events(session, [q.id for q, _ in quotes])
    return PersonalDataExport(
        exported_at=datetime.now(UTC),
        account=ExportedAccount(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            created_at=user.created_at,
            email_verified_at=user.email_verified_at,
            signs_in_with_directory=user.oidc_subject is not None,
        ),
        quotes=[
            ExportedQuote(
                id=q.id,
                number=quote_number_label(q.number),
                vendor=slug,
                status=q.status,
                created_at=q.created_at,
                total=q.total,
                currency=q.currency,
                note=q.note,
                contact=q.contact,
                lines=[
                    {
                        "product": ln.product_name,
                        "variant": ln.variant_label,
                        "sku": ln.sku,
                        "quantity": ln.quantity,
                        "unit_price": ln.unit_price,
                    }
                    for ln in lines[q.id]
                ],
                timeline=[
                    {
                        "at": e.at.isoformat(),
                        "kind": e.kind,
                        "status": e.status,
                        "actor": e.actor,
                        "message": e.message,
                    }
                    for e in events[q.id]
                ],
            )
            for q, slug in quotes
        ],
        carts=[
            ExportedCartItem(vendor=v, variant_id=variant, quantity=n)
            for v, variant, n in await repo.cart_items_of(session, user.id)
        ],
        sessions=[
            ExportedSession(
                created_at=s.created_at,
                last_seen_at=s.last_seen_at,
                method=s.method,
                ended=s.revoked_at is not None,
            )
            for s in await repo.sessions_of(session, user.id)
        ],
        api_tokens=await repo.token_names_of(session, user.id),
    )


async def correct(
    session: AsyncSession, who: Principal, body: CorrectAccount
) -> tuple[User, str | None]:
    """Apply the corrections; returns the user and, if the email changed, the token of
    the verification mail the caller sends after committing."""
    user = await _buyer(session, who)
    if body.name is not None:
        user.name = body.name
    token = None
    new_email = str(body.email).strip().lower() if body.email is not None else None
    if new_email and new_email != user.email:
        if await users_repo.get_by_email(session, new_email) is not None:
            raise Conflict(
                Reason("EMAIL_TAKEN", "an account with this email already exists"),
                errors=[("email", Reason("EMAIL_TAKEN", "taken"))],
            )
        user.email = new_email
        user.email_verified_at = None
        await session.flush()
        token = await email_tokens.issue(session, user, "verify_email")
    await session.flush()
    return user, token


async def _still_running(temporal: Client, buyer_id: uuid.UUID) -> int:
    """Quote workflows of the buyer still open (some keep listening for a late payment
    after the quote ended): their histories are still being written with the key."""
    query = f"{sa.BUYER_ID.name} = '{buyer_id}' AND ExecutionStatus = 'Running'"
    try:
        return (await temporal.count_workflows(query)).count
    except RPCError as exc:
        raise Unavailable("cannot check your quotes right now; try again later") from exc


async def erase(
    session: AsyncSession, temporal: Client, who: Principal, body: EraseAccount
) -> ErasureOut:
    user = await _buyer(session, who)
    if user.password_hash is not None:
        if not body.password or not await verify_password(user.password_hash, body.password):
            raise InvalidInput(
                "wrong password", errors=[("password", Reason("PASSWORD_WRONG", "is not correct"))]
            )
    elif (body.email or "").strip().lower() != user.email:
        raise InvalidInput(
            "type your account's email to confirm", errors=[("email", "does not match")]
        )
    quotes = await repo.quotes_of(session, user.id)
    if any(q.status not in FINAL_STATUSES for q, _ in quotes):
        raise Conflict(
            "you have quotes in progress; cancel them or wait until they end before "
            "deleting your account"
        )
    if await _still_running(temporal, user.id):
        raise Conflict(
            "a quote of yours is still watching for a late payment; try again in a few days"
        )
    now = datetime.now(UTC)
    pseudonym = pseudonymous_email(user.id)
    kept = await repo.pseudonymise_quotes(session, user.id, user.email, pseudonym)
    await repo.delete_account_traces(session, user.id)
    user.email = pseudonym
    user.name = ""
    user.password_hash = None
    user.oidc_subject = None
    user.email_verified_at = None
    user.active = False
    user.erased_at = now
    await data_keys.shred(session, user.id)
    await session.flush()
    return ErasureOut(erased_at=now, quotes_kept=kept)
