"""Spanish quote mail templates (Jinja2, plain text): `<event>.<party>.txt`, where the
first line is the subject."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from marketred.schemas.money import format_clp

SANTIAGO = ZoneInfo("America/Santiago")

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # plain-text mail
)
_env.filters["clp"] = format_clp


def _santiago(moment: datetime | None) -> str:
    return moment.astimezone(SANTIAGO).strftime("%d-%m-%Y %H:%M") if moment else "—"


_env.filters["santiago"] = _santiago


def render(event: str, party: str, context: dict[str, object]) -> tuple[str, str] | None:
    """(subject, body) for this event and party, or None if that party is not told."""
    try:
        template = _env.get_template(f"{event}.{party}.txt")
    except TemplateNotFound:
        return None
    subject, _, body = template.render(**context).partition("\n")
    return subject.strip(), body.lstrip("\n")
