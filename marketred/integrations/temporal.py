"""Temporal client construction and start-up registration of search attributes."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from marketred.schemas import search_attributes
from marketred.settings import Settings

_TYPES = {
    "KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "INT": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "DATETIME": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


async def connect(settings: Settings, *, target: str | None = None) -> Client:
    return await Client.connect(
        target or settings.temporal_target(),
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


def search_attribute_types() -> dict[str, IndexedValueType.ValueType]:
    return {
        key.name: _TYPES[key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")]
        for key in search_attributes.ALL
    }


async def register_search_attributes(client: Client, namespace: str) -> list[str]:
    """Add the quote search attributes that the namespace lacks; return the added names."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    known = set(existing.custom_attributes) | set(existing.system_attributes)
    missing = {k: v for k, v in search_attribute_types().items() if k not in known}
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
            )
        except RPCError as exc:  # another process registered them first
            if "already" not in str(exc).lower():
                raise
    return sorted(missing)
