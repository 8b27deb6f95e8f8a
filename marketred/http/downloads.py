"""A file the browser saves: the one answer shape of every CSV download (API and web)."""

from __future__ import annotations

from fastapi import Response


def csv_attachment(filename: str, body: str | bytes) -> Response:
    """`body` as a UTF-8 CSV attachment named `filename`."""
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
