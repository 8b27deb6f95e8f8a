"""The site theme (RNF1: look like the directory): read, set by an operator, pushed by
the directory with a signed request, and turned into CSS variables.

Colour pairs that fail WCAG AA are refused (schemas/theme.unreadable), so neither an
operator's typo nor a directory push can make the storefront unreadable. The CSS is
generated from validated values only (hex colours, a font stack without `;{}`, an
integer radius, a URL without quotes or parentheses), so nothing pushed can inject CSS.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.logs import get_logger
from marketred.schemas.accounts import Principal
from marketred.schemas.theme import DEFAULT_THEME, ThemeIn, unreadable
from marketred.services.accounts import authz
from marketred.services.directory.company_sync import authenticate
from marketred.services.errors import InvalidInput
from marketred.store.models import SiteTheme
from marketred.store.repositories import theme as repo

log = get_logger(__name__)


async def current(session: AsyncSession) -> ThemeIn:
    row = await repo.get(session)
    if row is None:
        return DEFAULT_THEME
    return ThemeIn(
        primary=row.primary,
        secondary=row.secondary,
        font_stack=row.font_stack,
        radius_px=row.radius_px,
        logo_url=row.logo_url,
    )


async def last_saved(session: AsyncSession) -> SiteTheme | None:
    """Who set the theme and when (the operator page shows it); None before anyone did."""
    return await repo.get(session)


async def _save(session: AsyncSession, theme: ThemeIn, source: str, by: str | None) -> None:
    problems = unreadable(theme)
    if problems:
        raise InvalidInput("colours fail WCAG AA contrast", errors=problems)
    values = {**theme.model_dump(), "source": source, "updated_by": by}
    await repo.save(session, values)
    log.info("theme_changed", source=source, by=by, primary=theme.primary)


async def set_by_operator(session: AsyncSession, who: Principal, theme: ThemeIn) -> None:
    authz.require_role(who, "operator")
    await _save(session, theme, "operator", who.email or None)


async def push_from_directory(
    session: AsyncSession, *, secret: str, signature: str | None, path: str, body: bytes
) -> ThemeIn:
    """`PUT /api/v1/directory/theme`: signed like company updates (method, path,
    timestamp and body); checked, then saved."""
    authenticate(secret, signature, "PUT", path, body)
    try:
        theme = ThemeIn.model_validate_json(body)
    except ValidationError as exc:
        errors = [(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in exc.errors()]
        raise InvalidInput("invalid theme", errors=errors) from exc
    await _save(session, theme, "directory", "directory")
    return theme


def css(theme: ThemeIn) -> str:
    """Variables for the storefront (marketred.css) and the embeds (--mr-*)."""
    lines = [
        ":root{",
        f"--red:{theme.primary};--red-dark:{theme.secondary};--radius:{theme.radius_px}px;",
        f"--mr-accent:{theme.primary};--mr-radius:{theme.radius_px}px;",
        f"--mr-font:{theme.font_stack}}}",
        f"body{{font-family:{theme.font_stack}}}",
    ]
    if theme.logo_url:
        lines.append(
            f'.brand-mark{{background:#fff url("{theme.logo_url}") center/contain no-repeat;'
            "color:transparent}"
        )
    return "\n".join(lines) + "\n"


def version(theme: ThemeIn) -> str:
    return hashlib.sha256(json.dumps(theme.model_dump(), sort_keys=True).encode()).hexdigest()[:16]
