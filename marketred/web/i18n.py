"""Language of a web request and its gettext catalog (Babel, catalogs under locale/).

Spanish (es-CL) is the default whatever the browser says: MarketRed is a Chilean shop. A
visitor switches with the language links (cookie) or `?lang=en` on any page.
"""

from __future__ import annotations

import contextvars
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from starlette.requests import Request

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"es": "Español", "en": "English"}
DEFAULT_LANGUAGE = "es"
LANG_COOKIE = "mr_lang"
# Babel locale used for dates and numbers in each language.
BABEL_LOCALES = {"es": "es_CL", "en": "en_US"}

_current = contextvars.ContextVar("marketred_lang", default=DEFAULT_LANGUAGE)


def request_language(request: Request) -> str:
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


@lru_cache(maxsize=len(LANGUAGES))
def catalog(lang: str) -> NullTranslations:
    return Translations.load(str(LOCALE_DIR), [lang], domain="messages")


def current_language() -> str:
    return _current.get()


def use_language(lang: str) -> contextvars.Token[str]:
    return _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def reset_language(token: contextvars.Token[str]) -> None:
    _current.reset(token)


def gettext(message: str, **values: Any) -> str:
    """`_("Hola %(name)s", name=x)`: translate, then fill named values."""
    text = catalog(current_language()).ugettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    text = catalog(current_language()).ungettext(singular, plural, n)
    return text % {"num": n, **values}
