"""The directory's look (RNF1): a theme of logo, two colours, a font stack and a corner
radius, and the WCAG 2.x contrast rules it must pass (pure)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

HEX = r"^#[0-9a-fA-F]{6}$"
# Only characters a font stack needs: nothing that can end a declaration or a rule.
FONT_STACK = r"^[A-Za-z0-9 ,\"'_-]{1,200}$"
# Only URL characters that need no escaping inside CSS url("...") or an HTML attribute.
LOGO_URL = r"^https?://[A-Za-z0-9._~:/?#\[\]@!$&*+,;=%-]{1,480}$"
MIN_CONTRAST = 4.5  # WCAG AA, normal text
WHITE = "#ffffff"


class ThemeIn(BaseModel):
    primary: str = Field(pattern=HEX)  # header background, buttons, prices (white text on it)
    secondary: str = Field(pattern=HEX)  # links and hover on white
    font_stack: str = Field(
        default='system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
        pattern=FONT_STACK,
    )
    radius_px: int = Field(default=10, ge=0, le=24)
    logo_url: str | None = Field(default=None, pattern=LOGO_URL)

    @field_validator("primary", "secondary")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


DEFAULT_THEME = ThemeIn(primary="#b3122e", secondary="#8c0e24")


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio, 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def unreadable(theme: ThemeIn) -> list[tuple[str, str]]:
    """(field, reason) for each colour that fails AA against the colour it meets: white
    text on the primary (header, buttons), the secondary as link text on white."""
    problems = []
    for field in ("primary", "secondary"):
        ratio = contrast(getattr(theme, field), WHITE)
        if ratio < MIN_CONTRAST:
            problems.append(
                (field, f"contrast with white is {ratio:.2f}:1; WCAG AA needs {MIN_CONTRAST}:1")
            )
    return problems
