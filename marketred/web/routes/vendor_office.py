"""Placeholder router (pages follow)."""

from __future__ import annotations

from fastapi import APIRouter

from marketred.web.routes.common import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
