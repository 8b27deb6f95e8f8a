"""The payout CSV report (and the vendor statement text built from the same lines).

Made for Excel with a Spanish (Chile) locale: `;` separates fields (the list separator of
that locale), UTF-8 with a BOM (so "Comisión" is not garbled), CRLF line ends, amounts as
plain integers without thousands separators (so Excel reads numbers, not text), dates as
DD-MM-YYYY in America/Santiago.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from marketred.schemas.money import format_clp
from marketred.schemas.payouts import payout_totals

SANTIAGO = ZoneInfo("America/Santiago")
BOM = "\ufeff"
HEADER = ("N° cotización", "Fecha", "Concepto", "Monto bruto", "Comisión", "Monto neto")
KIND_LABEL = {"sale": "Venta", "clawback": "Reverso por reembolso"}


@dataclass(frozen=True)
class ReportLine:
    quote_number: str
    occurred_at: datetime | None
    kind: str
    gross: int
    commission: int
    net: int


def _date(at: datetime | None) -> str:
    return at.astimezone(SANTIAGO).strftime("%d-%m-%Y") if at else ""


def semicolon_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A header and rows, `;`-separated with CRLF line ends (this report; the bank files)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def render_csv(lines: list[ReportLine]) -> str:
    """The report body (without BOM; `with_bom` adds it for downloads)."""
    rows: list[tuple[object, ...]] = [
        (
            line.quote_number,
            _date(line.occurred_at),
            KIND_LABEL[line.kind],
            line.gross,
            line.commission,
            line.net,
        )
        for line in lines
    ]
    gross, commission, net = payout_totals((x.gross, x.commission) for x in lines)
    rows.append(("Total", "", "", gross, commission, net))
    return semicolon_csv(HEADER, rows)


def with_bom(body: str) -> bytes:
    return (BOM + body).encode("utf-8")


def render_statement(vendor_name: str, paid_at: datetime | None, lines: list[ReportLine]) -> str:
    gross, commission, net = payout_totals((x.gross, x.commission) for x in lines)
    rows = [
        f"  {x.quote_number}  {_date(x.occurred_at)}  {KIND_LABEL[x.kind]:<22}"
        f"  bruto {format_clp(x.gross)}  comisión {format_clp(x.commission)}"
        f"  neto {format_clp(x.net)}"
        for x in lines
    ]
    return "\n".join(
        [
            f"Hola {vendor_name},",
            "",
            f"Te transferimos {format_clp(net)} el {_date(paid_at)}.",
            "",
            "Detalle:",
            *rows,
            "",
            f"Total bruto {format_clp(gross)} · comisión {format_clp(commission)} · "
            f"neto {format_clp(net)}",
            "",
            "El detalle en CSV está en tu panel de pagos de MarketRed.",
        ]
    )
