"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106).

Hashing and verifying take tens of milliseconds of CPU by design, so they run in a thread:
on the event loop one sign-in would stall every other request of the process meanwhile.
"""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so timing does not reveal accounts.
    Made on first use (in the verifying thread), not when the module is imported."""
    return _hasher.hash("not-a-real-password-0000")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(_verify, password_hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


# Passwords of at least the minimum length that appear at the top of public leak lists
# (and obvious local variants). Refused at registration, reset and change.
COMMON_PASSWORDS = frozenset(
    """
    1234567890 12345678910 0123456789 0987654321 1111111111 0000000000 1234512345
    123456789a a123456789 qwertyuiop qwertyuiop1 asdfghjkl1 1q2w3e4r5t 1q2w3e4r5t6y
    q1w2e3r4t5 zaq12wsxcv qazwsxedcrfv 1qaz2wsx3edc passw0rd123 password12 password123
    password1234 passwordpassword iloveyou12 iloveyou123 princess12 sunshine12
    football123 baseball123 welcome123 welcome1234 letmein123 trustno1234 monkey1234
    dragon1234 superman123 starwars123 michael123 charlie123 administrator admin12345
    administrador contraseña contrasena contrasena1 contrasena123 contraseña123
    teamo12345 teamo123456 chile12345 chile123456 santiago123 colocolo123 colocolo1925
    universidad 1234567890a abcdefghij abcdefghijk abcd123456 abc1234567 123456abcd
    1234qwer1234 qwerty1234 qwerty12345 qwerty123456 asdfasdfasdf mercadored
    marketred123 marketred1234 changeme123 default1234 computer123 internet123
    """.split()
)


def is_common_password(password: str) -> bool:
    lowered = password.lower()
    return lowered in COMMON_PASSWORDS or len(set(lowered)) <= 2
