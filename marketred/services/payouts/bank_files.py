"""Bank transfer files (nóminas de pago) of payout runs, kept in PostgreSQL.

The `bank_file` payout provider adds each approved payout of a run to that run's open
file (one line per payout, unique: adding it again, from any worker replica, finds it).
An operator downloads the file and uploads it to the bank; the first download closes the
file and freezes its bytes in the database, so a second download is the same file and a
payout approved later goes into the run's next file instead of into one that may already
have been uploaded. Once the bank executed the transfers the operator confirms each
payout with the bank's reference (or marks it not executed, which voids its line).

The CSV format (docs/payouts.md, "Bank file"): one header row, then one row per transfer:

    RUT beneficiario;Nombre beneficiario;Código banco;Banco;Tipo de cuenta;
    Número de cuenta;Monto;Glosa;Email aviso

`;`-separated, CRLF, no BOM; RUT without dots and with its check digit (`12345678-5`);
the bank by its 3-digit CMF code (plus its name, for the person checking the file);
amounts in whole pesos without separators; names and the glosa in plain ASCII (accents
and ñ removed) and cut to the lengths bank layouts accept (name 45, glosa 30).
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.banking import ACCOUNT_TYPES, BANKS
from marketred.schemas.payouts import BankFileOut
from marketred.services.errors import NotFound
from marketred.services.payouts.report import semicolon_csv
from marketred.store.models import PayoutBankFile, PayoutBankFileLine
from marketred.store.repositories import bank_files as repo

HEADER = (
    "RUT beneficiario",
    "Nombre beneficiario",
    "Código banco",
    "Banco",
    "Tipo de cuenta",
    "Número de cuenta",
    "Monto",
    "Glosa",
    "Email aviso",
)
NAME_LENGTH = 45
GLOSA_LENGTH = 30


def plain(value: str, length: int) -> str:
    """ASCII only (bank uploads refuse accents), single spaces, cut to `length`."""
    decomposed = unicodedata.normalize("NFKD", value)
    ascii_text = decomposed.encode("ascii", "ignore").decode()
    return " ".join(ascii_text.replace(";", " ").split())[:length]


async def _lock_run(session: AsyncSession, run_workflow_id: str) -> None:
    """Adding lines and closing a run's file take turns (until the transaction ends)."""
    await repo.lock_run(session, run_workflow_id)


async def add_line(
    session: AsyncSession, payout_id: uuid.UUID, run_workflow_id: str, amount: int
) -> PayoutBankFile:
    """Put the payout in the run's open bank file (opening one if needed); a payout
    already in a file stays where it is."""
    await _lock_run(session, run_workflow_id)
    existing = await repo.file_of_payout(session, payout_id)
    if existing is not None:
        return existing
    bank_file = await repo.latest_file_of_run(session, run_workflow_id)
    if bank_file is None or bank_file.closed_at is not None:
        bank_file = PayoutBankFile(
            run_workflow_id=run_workflow_id, seq=(bank_file.seq + 1) if bank_file else 1
        )
        session.add(bank_file)
        await session.flush()
    session.add(PayoutBankFileLine(bank_file_id=bank_file.id, payout_id=payout_id, amount=amount))
    await session.flush()
    return bank_file


async def void_line(session: AsyncSession, payout_id: uuid.UUID) -> None:
    """The transfer was not executed: leave it out of any later rendering."""
    line = await repo.line_of_payout(session, payout_id)
    if line is not None and line.voided_at is None:
        line.voided_at = datetime.now(UTC)
        await session.flush()


async def list_files(session: AsyncSession, limit: int = 50) -> list[BankFileOut]:
    rows = await repo.files_with_totals(session, limit)
    return [
        BankFileOut(
            id=f.id,
            run_workflow_id=f.run_workflow_id,
            seq=f.seq,
            created_at=f.created_at,
            closed_at=f.closed_at,
            lines=int(n),
            total=int(total),
        )
        for f, n, total in rows
    ]


@dataclass(frozen=True)
class BankFileRow:
    holder_rut: str
    holder_name: str
    bank_code: str
    account_type: str
    account_number: str
    amount: int
    glosa: str
    email: str


def render_csv(rows: list[BankFileRow]) -> str:
    return semicolon_csv(
        HEADER,
        (
            (
                r.holder_rut,
                plain(r.holder_name, NAME_LENGTH),
                r.bank_code,
                BANKS.get(r.bank_code, r.bank_code),
                ACCOUNT_TYPES.get(r.account_type, r.account_type),
                r.account_number,
                r.amount,
                plain(r.glosa, GLOSA_LENGTH),
                r.email,
            )
            for r in rows
        ),
    )


async def _rows(session: AsyncSession, bank_file_id: uuid.UUID) -> list[BankFileRow]:
    from marketred.services.vendors.registry import vendor_mail_address

    found = await repo.live_lines(session, bank_file_id)
    rows = []
    for line, payout, vendor in found:
        # The transfer step only adds payouts that carry an account (see payouts.py).
        assert payout.bank_code is not None
        assert payout.bank_account_number is not None
        assert payout.bank_holder_rut is not None
        rows.append(
            BankFileRow(
                holder_rut=payout.bank_holder_rut,
                holder_name=payout.bank_holder_name or vendor.name,
                bank_code=payout.bank_code,
                account_type=payout.bank_account_type or "corriente",
                account_number=payout.bank_account_number,
                amount=line.amount,
                glosa=f"MarketRed pago {str(payout.id)[:8]}",
                email=await vendor_mail_address(session, vendor) or "",
            )
        )
    return rows


async def download(
    session: AsyncSession, bank_file_id: uuid.UUID, operator_id: uuid.UUID | None
) -> tuple[str, bytes]:
    """(file name, bytes) of a bank file; the first download closes it (see above)."""
    bank_file = await session.get(PayoutBankFile, bank_file_id)
    if bank_file is None:
        raise NotFound("bank file not found")
    await _lock_run(session, bank_file.run_workflow_id)
    await session.refresh(bank_file)
    if bank_file.content is None:
        bank_file.content = render_csv(await _rows(session, bank_file.id))
        bank_file.closed_at = datetime.now(UTC)
        bank_file.closed_by = operator_id
        await session.flush()
    day = bank_file.created_at.strftime("%Y%m%d")
    name = f"nomina-marketred-{day}-{str(bank_file.id)[:8]}-{bank_file.seq}.csv"
    return name, bank_file.content.encode("utf-8")


async def file_of_payout(session: AsyncSession, payout_id: uuid.UUID) -> PayoutBankFile | None:
    return await repo.file_of_payout(session, payout_id)
