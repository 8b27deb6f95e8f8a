"""The gettext catalogs in the repo: every message of the web UI has an English
translation, the compiled .mo files match their .po sources, and dates/amounts follow
es-CL conventions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from marketred.web import formatting, i18n

WEB = Path(i18n.__file__).parent
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def _catalog(lang: str, suffix: str):  # type: ignore[no-untyped-def]
    path = WEB / "locale" / lang / "LC_MESSAGES" / f"messages.{suffix}"
    with path.open("rb") as f:
        return read_po(f) if suffix == "po" else read_mo(f)


def _key(value: object) -> object:
    # Plural forms: Babel pads a catalog's plurals to its language's count with "".
    return tuple(v for v in value if v) if isinstance(value, (list, tuple)) else value


def test_every_message_of_the_web_ui_has_an_english_translation():
    used = {
        (m[2][0] if isinstance(m[2], tuple) else m[2])
        for m in extract_from_dir(str(WEB), METHODS, keywords=KEYWORDS)
    }
    english = _catalog("en", "po")
    missing = sorted(m for m in used if not english.get(m) or not english.get(m).string)
    assert not missing, f"add these to locale/en/LC_MESSAGES/messages.po: {missing}"


def test_compiled_catalogs_match_their_sources():
    for lang in i18n.LANGUAGES:
        po, mo = _catalog(lang, "po"), _catalog(lang, "mo")

        def pairs(catalog: Any) -> dict[object, object]:
            return {_key(m.id): _key(m.string) for m in catalog if m.id}

        assert pairs(po) == pairs(mo)


def test_english_catalog_translates_and_spanish_is_the_default():
    token = i18n.use_language("en")
    try:
        assert i18n.gettext("Mis carros") == "My carts"
        assert i18n.ngettext("%(num)s producto", "%(num)s productos", 3) == "3 products"
    finally:
        i18n.reset_language(token)
    assert i18n.gettext("Mis carros") == "Mis carros"


def test_clp_and_santiago_time():
    assert formatting.clp(12990) == "$12.990"
    assert formatting.clp(1_234_567) == "$1.234.567"
    # 15:30 UTC on 1 Dec 2026 is 12:30 in Santiago (summer time, UTC-3).
    moment = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
    assert formatting.santiago(moment) == "1 dic 2026, 12:30"
    assert formatting.remaining_text(moment, now=datetime(2026, 12, 1, 13, 0, tzinfo=UTC)) == (
        "quedan 2 h 30 min"
    )
