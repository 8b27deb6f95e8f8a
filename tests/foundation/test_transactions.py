"""One owner per transaction (store/session.py): after-commit hooks run only once the
work is committed, a rollback drops them, and a refusal marked keep_when_refused is
committed (with its hooks) before the refusal goes on."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketred.services.errors import Conflict, DomainError
from marketred.store.session import after_commit, keep_when_refused, transaction

pytestmark = pytest.mark.db

Factory = async_sessionmaker[AsyncSession]


async def _work(
    factory: Factory, ran: list[str], label: str, *, fails: Exception, keep: bool = False
) -> None:
    """A unit of work that registers a hook, then fails with `fails`."""
    async with transaction(factory, refusals=(DomainError,)) as session:
        if keep:
            keep_when_refused(session)
        after_commit(session, ran.append, label)
        raise fails


async def test_hooks_run_after_the_commit_and_never_after_a_rollback(
    session_factory: Factory,
) -> None:
    ran: list[str] = []
    async with transaction(session_factory) as session:
        after_commit(session, ran.append, "mail")
        assert ran == []  # not before the owner commits
    assert ran == ["mail"]

    with pytest.raises(RuntimeError):
        await _work(session_factory, ran, "lost", fails=RuntimeError("crash"))
    assert ran == ["mail"]


async def test_a_refusal_rolls_back_unless_the_work_must_stand(session_factory: Factory) -> None:
    ran: list[str] = []
    with pytest.raises(Conflict):
        await _work(session_factory, ran, "refused", fails=Conflict("no"))
    assert ran == []

    with pytest.raises(Conflict):
        await _work(session_factory, ran, "lockout mail", fails=Conflict("locked"), keep=True)
    assert ran == ["lockout mail"]

    # A crash rolls back even when the work was marked to stand on a refusal.
    with pytest.raises(RuntimeError):
        await _work(session_factory, ran, "crashed", fails=RuntimeError("crash"), keep=True)
    assert ran == ["lockout mail"]
