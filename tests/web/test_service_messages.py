"""Service messages shown on pages speak the visitor's language."""

from __future__ import annotations

from marketred.web import i18n
from marketred.web.service_messages import localize


def test_known_messages_are_spanish_by_default_and_english_on_request() -> None:
    assert localize("must be positive") == "Debe ser mayor que cero."
    assert localize("at most 80 characters") == "Máximo 80 caracteres."
    assert localize("Café (CAF-1): only 2 in stock") == "Café (CAF-1): solo quedan 2."
    assert localize("quote 5f0c not found") == "No existe, o no tienes acceso."
    token = i18n.use_language("en")
    try:
        assert localize("must be positive") == "Must be greater than zero."
        assert localize("SKU 'A-1' already on line 4") == "SKU 'A-1' already on line 4."
    finally:
        i18n.reset_language(token)


def test_a_message_written_for_the_page_passes_unchanged() -> None:
    assert localize("Indica el nombre del producto.") == "Indica el nombre del producto."
