from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, SmallInteger, String, func
from sqlalchemy.orm import Mapped, mapped_column

from marketred.store.base import Base


class SiteTheme(Base):
    """The one theme (row id 1): set by an operator or pushed by the directory."""

    __tablename__ = "site_theme"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    primary: Mapped[str] = mapped_column(String(7))
    secondary: Mapped[str] = mapped_column(String(7))
    font_stack: Mapped[str] = mapped_column(String(200))
    radius_px: Mapped[int] = mapped_column(Integer)
    logo_url: Mapped[str | None] = mapped_column(String(500))
    # "operator" or "directory", and who (an operator's email; "directory" for a push).
    source: Mapped[str] = mapped_column(String(20))
    updated_by: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
