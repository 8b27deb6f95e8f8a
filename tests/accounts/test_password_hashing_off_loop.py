"""argon2 hashing and verification run in a thread: the event loop (every other request
of the process) keeps running while a password is hashed or checked."""

from __future__ import annotations

import asyncio

from marketred.services.accounts import passwords


async def _loop_ran_during(work) -> int:  # type: ignore[no-untyped-def]
    """How many times another coroutine got to run while `work` was in progress."""
    ticks = 0
    task = asyncio.ensure_future(work)
    while not task.done():
        ticks += 1
        await asyncio.sleep(0)
    await task
    return ticks


async def test_hashing_and_verifying_leave_the_event_loop_free():
    stored = await passwords.hash_password("una clave larga 1")
    assert await _loop_ran_during(passwords.hash_password("otra clave larga 2")) > 1
    assert await _loop_ran_during(passwords.verify_password(stored, "una clave larga 1")) > 1
    assert await passwords.verify_password(stored, "una clave larga 1")
    assert not await passwords.verify_password(stored, "no es la clave")
    assert not await passwords.verify_password(None, "una clave larga 1")
