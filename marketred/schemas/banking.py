"""Where a vendor's payouts go: Chilean banks, account types, the bank account body.

Banks are identified by the 3-digit institution code the CMF (ex SBIF) assigns, which is
what Chilean bulk-transfer files (nóminas de pago) carry to name the destination bank.
The list is fixed on purpose: a typo in a free-text bank name would send money nowhere.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from marketred.schemas.common import StrictModel
from marketred.schemas.rut import normalize_rut

# Code → name. Banks and the savings cooperative most small businesses hold accounts in.
BANKS: dict[str, str] = {
    "001": "Banco de Chile",
    "009": "Banco Internacional",
    "012": "BancoEstado",
    "014": "Scotiabank Chile",
    "016": "Banco BCI",
    "028": "Banco BICE",
    "031": "HSBC Bank Chile",
    "037": "Banco Santander",
    "039": "Banco Itaú",
    "049": "Banco Security",
    "051": "Banco Falabella",
    "053": "Banco Ripley",
    "055": "Banco Consorcio",
    "059": "Banco BTG Pactual",
    "672": "Coopeuch",
}

AccountType = Literal["corriente", "vista", "ahorro"]
ACCOUNT_TYPES: dict[str, str] = {
    "corriente": "Cuenta Corriente",
    "vista": "Cuenta Vista",  # CuentaRUT and other demand accounts
    "ahorro": "Cuenta de Ahorro",
}

_ACCOUNT_NUMBER = re.compile(r"\d{4,20}")
_SEPARATORS = re.compile(r"[\s.\-]")


def normalize_account_number(value: str) -> str:
    """`00-123-45678-9` → `00123456789`: banks print numbers with separators; transfer
    files want the digits. Leading zeros are kept (they are part of the number)."""
    digits = _SEPARATORS.sub("", value.strip())
    if not _ACCOUNT_NUMBER.fullmatch(digits):
        raise ValueError("an account number is 4 to 20 digits")
    return digits


def mask_account_number(number: str) -> str:
    """Only the last four digits, for mails and logs."""
    return "····" + number[-4:]


class BankAccountIn(StrictModel):
    bank_code: str = Field(description="CMF code of the bank, e.g. 012 for BancoEstado")
    account_type: AccountType
    account_number: str = Field(max_length=40)
    holder_name: str = Field(min_length=2, max_length=100)
    holder_rut: str = Field(max_length=20)

    @field_validator("bank_code")
    @classmethod
    def _known_bank(cls, value: str) -> str:
        code = value.strip().zfill(3)
        if code not in BANKS:
            raise ValueError("not a bank we can transfer to; pick one from the list")
        return code

    @field_validator("account_number")
    @classmethod
    def _digits(cls, value: str) -> str:
        return normalize_account_number(value)

    @field_validator("holder_rut")
    @classmethod
    def _rut(cls, value: str) -> str:
        return normalize_rut(value)


class BankAccountOut(BaseModel):
    bank_code: str
    bank_name: str
    account_type: AccountType
    account_type_name: str
    account_number: str
    holder_name: str
    holder_rut: str
    updated_at: datetime
    updated_by: str | None = None  # email of who saved it last


class BankAccountChangeOut(BaseModel):
    at: datetime
    by: str | None  # email of the staff member
    summary: str  # masked: bank, type, last four digits, holder


def describe(bank_code: str, account_type: str, account_number: str, holder: str) -> str:
    """One line, account number masked: what a change log or a mail may show."""
    return (
        f"{BANKS.get(bank_code, bank_code)} · {ACCOUNT_TYPES.get(account_type, account_type)} "
        f"{mask_account_number(account_number)} · {holder}"
    )
