"""Chilean RUT: validation with the modulo-11 check digit, and normalisation."""

from __future__ import annotations

import re

_CLEAN = re.compile(r"[.\-\s]")


def check_digit(body: int) -> str:
    total, factor = 0, 2
    while body:
        total += (body % 10) * factor
        body //= 10
        factor = 2 if factor == 7 else factor + 1
    rest = 11 - total % 11
    return {11: "0", 10: "K"}.get(rest, str(rest))


def normalize_rut(value: str) -> str:
    """Return `12345678-5` form, or raise ValueError saying what is wrong."""
    raw = _CLEAN.sub("", value.strip()).upper()
    if len(raw) < 2 or not raw[:-1].isdigit() or not (raw[-1].isdigit() or raw[-1] == "K"):
        raise ValueError("RUT must look like 12.345.678-5")
    body, dv = int(raw[:-1]), raw[-1]
    if body < 1_000_000 or body > 99_999_999:
        raise ValueError("RUT number is out of range")
    if check_digit(body) != dv:
        raise ValueError("RUT check digit does not match")
    return f"{body}-{dv}"


def format_rut(value: str) -> str:
    """`12345678-5` → `12.345.678-5` for display."""
    body, dv = normalize_rut(value).split("-")
    return f"{int(body):,}".replace(",", ".") + f"-{dv}"
