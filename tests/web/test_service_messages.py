"""Service messages shown on pages speak the visitor's language, found by their code."""

from __future__ import annotations

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from marketred.schemas.problems import refusal_details
from marketred.services import workflow_errors
from marketred.services.errors import Conflict, NotFound, Reason
from marketred.web import i18n
from marketred.web.service_messages import error_text, localize


def test_known_codes_are_spanish_by_default_and_english_on_request() -> None:
    assert localize(Reason("MUST_BE_POSITIVE", "must be positive")) == "Debe ser mayor que cero."
    assert localize(Reason("TOO_LONG", "at most 80 characters", n=80)) == "Máximo 80 caracteres."
    short = Reason(
        "CART_LINE_SHORT", "Café (CAF-1): only 2 in stock", name="Café", sku="CAF-1", n=2
    )
    assert localize(short) == "Café (CAF-1): solo quedan 2."
    assert error_text(NotFound("quote 5f0c not found")) == "No existe, o no tienes acceso."
    token = i18n.use_language("en")
    try:
        assert localize(Reason("MUST_BE_POSITIVE", "must be positive")) == (
            "Must be greater than zero."
        )
        repeated = Reason("CSV_SKU_REPEATED", "SKU 'A-1' already on line 4", sku="'A-1'", line=4)
        assert localize(repeated) == "SKU 'A-1' already on line 4."
    finally:
        i18n.reset_language(token)


def test_the_sentence_is_never_read_only_the_code() -> None:
    # Rewording a service's sentence keeps its translation; a known sentence without a
    # code is not translated by guessing.
    assert (
        localize(Reason("MUST_BE_POSITIVE", "has to be above zero")) == "Debe ser mayor que cero."
    )
    assert localize("must be positive") == "must be positive"
    # A code given apart (a CSV report row carries it so) works the same.
    assert localize("whatever", "TOO_LONG", {"n": 200}) == "Máximo 200 caracteres."


def test_a_domain_error_is_told_by_its_code_and_params() -> None:
    refused = Conflict("the quote has already ended", code="QUOTE_STATE_CONFLICT")
    assert error_text(refused) == "La cotización ya no permite esta acción en su estado actual."
    assert refused.reason == "the quote has already ended"  # API clients read the sentence


def test_a_message_written_for_the_page_passes_unchanged() -> None:
    assert localize("Indica el nombre del producto.") == "Indica el nombre del producto."


def test_a_workflow_refusal_keeps_its_code_through_the_one_mapping() -> None:
    # What the quote workflow raises when a vendor asks for more time a second time.
    why = Reason("DEADLINE_ALREADY_EXTENDED", "the vendor already extended its time once")
    refusal = ApplicationError(why, *refusal_details(why), type="QuoteStateConflict")
    error = workflow_errors.update_failed(WorkflowUpdateFailedError(refusal))
    assert (error.status, error.code) == (409, "DEADLINE_ALREADY_EXTENDED")
    assert error.detail == "the vendor already extended its time once"
    assert error_text(error) == "Ya pediste más plazo una vez."
    # A refusal without a code of its own is coded by its type.
    plain = ApplicationError("the quote has already ended", type="QuoteStateConflict")
    assert workflow_errors.update_failed(WorkflowUpdateFailedError(plain)).code == (
        "QUOTE_STATE_CONFLICT"
    )
    busy = ApplicationError("Khipu did not answer", type="NoAnswer")
    answered = workflow_errors.update_failed(WorkflowUpdateFailedError(busy))
    assert (answered.status, answered.code) == (503, "NO_ANSWER")
