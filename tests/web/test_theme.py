"""The site theme: WCAG AA contrast refusal, the directory's signed push, CSS that
nothing pushed can break out of, and embed fragments whose CSP hash covers the themed
style block."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest
from pydantic import ValidationError

from marketred.integrations.directory import SIGNATURE_HEADER, sign
from marketred.schemas.theme import ThemeIn, contrast, unreadable
from marketred.services.directory import theme
from tests.support.factories import make_user
from tests.support.pages import csrf_of, sign_in

GOOD = {"primary": "#1565c0", "secondary": "#0d47a1", "font_stack": "Georgia, serif",
        "radius_px": 4}  # fmt: skip


def test_contrast_ratios_follow_wcag():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert unreadable(ThemeIn(primary="#767676", secondary="#000000")) == []
    refused = unreadable(ThemeIn(primary="#ffeb3b", secondary="#777777"))
    assert [field for field, _ in refused] == ["primary", "secondary"]
    assert "WCAG AA needs 4.5:1" in refused[0][1]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("primary", "red"),
        ("primary", "#12345"),
        ("font_stack", "Arial;}body{display:none"),
        ("font_stack", "x{"),
        ("logo_url", 'https://a.cl/x.png")}body{'),
        ("logo_url", "javascript:alert(1)"),
        ("radius_px", 99),
    ],
)
def test_values_that_could_break_out_of_css_are_refused(field, value):
    with pytest.raises(ValidationError):
        ThemeIn.model_validate({**GOOD, field: value})


def test_css_carries_the_variables():
    css = theme.css(ThemeIn.model_validate({**GOOD, "logo_url": "https://dir.cl/logo.png"}))
    assert "--red:#1565c0" in css
    assert "--mr-accent:#1565c0" in css
    assert "--radius:4px" in css
    assert 'url("https://dir.cl/logo.png")' in css


def _signed(settings, body: dict[str, object]) -> tuple[bytes, dict[str, str]]:  # type: ignore[no-untyped-def]
    raw = json.dumps(body).encode()
    signature = sign(settings.directory_secret, "PUT", "/api/v1/directory/theme", raw)
    return raw, {"Content-Type": "application/json", SIGNATURE_HEADER: signature}


@pytest.mark.db
async def test_directory_push_is_signed_checked_and_applied(client, settings):
    raw, headers = _signed(settings, GOOD)
    assert (await client.put("/api/v1/directory/theme", content=raw)).status_code == 401
    unreadable_body = {**GOOD, "primary": "#ffeb3b"}
    raw2, headers2 = _signed(settings, unreadable_body)
    r = await client.put("/api/v1/directory/theme", content=raw2, headers=headers2)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "primary"
    assert "#ffeb3b" not in (await client.get("/theme.css")).text

    r = await client.put("/api/v1/directory/theme", content=raw, headers=headers)
    assert r.status_code == 200, r.text
    css = await client.get("/theme.css")
    assert "--red:#1565c0" in css.text
    assert css.headers["cache-control"] == "public, max-age=60"
    assert (await client.get("/api/v1/theme")).json()["primary"] == "#1565c0"


@pytest.mark.db
async def test_embed_fragment_style_is_themed_and_allowed_by_its_hash(client, settings):
    raw, headers = _signed(settings, {**GOOD, "primary": "#2e7d32"})
    assert (await client.put("/api/v1/directory/theme", content=raw, headers=headers)).is_success
    r = await client.get("/embed/v1/search", params={"q": "nada-que-encontrar"})
    style = re.search(r"<style>(.*?)</style>", r.text, re.S)
    assert style is not None
    assert "--mr-accent:#2e7d32" in style[1]
    digest = base64.b64encode(hashlib.sha256(style[1].encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in r.headers["content-security-policy"]


@pytest.mark.db
async def test_operator_console_sets_the_theme_and_refuses_unreadable_colours(client, db, settings):
    operator = await make_user(db, "operator")
    await sign_in(client, db, settings, operator)
    page = await client.get("/operador/tema")
    assert page.status_code == 200
    form = {"csrf_token": csrf_of(page.text), "primary": "#ffeb3b", "secondary": "#0d47a1",
            "font_stack": "Georgia, serif", "radius_px": "4", "logo_url": ""}  # fmt: skip
    refused = await client.post("/operador/tema", data=form)
    assert refused.status_code == 422
    assert "Contraste con blanco de 1,2" in refused.text
    assert "ilegible (WCAG AA pide 4,5:1)" in refused.text
    assert "#ffeb3b" not in (await client.get("/theme.css")).text
    saved = await client.post("/operador/tema", data={**form, "primary": "#2e7d32"})
    assert saved.status_code == 303
    assert "--red:#2e7d32" in (await client.get("/theme.css")).text
    again = await client.get("/operador/tema")
    assert f"por {operator.email}" in again.text
