"""Every Temporal name the quote workflow and its callers use is a contract in
marketred.schemas.temporal_contracts, registered on the worker under that name."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from temporalio import activity, workflow

from marketred.schemas import temporal_contracts as c
from marketred.workers import registry
from marketred.workflows.quote_workflow import QuoteWorkflow

ROOT = Path(__file__).resolve().parents[2] / "marketred"
# Calls whose first argument names an activity, update, signal, query or workflow type.
TEMPORAL_CALLS = {
    "execute_activity",
    "start_activity",
    "execute_local_activity",
    "execute_update",
    "start_update",
    "signal",
    "query",
    "start_workflow",
    "execute_workflow",
}
QUOTE_CALLERS = [
    ROOT / "workflows" / "quote_base.py",
    ROOT / "workflows" / "quote_workflow.py",
    ROOT / "workflows" / "quote_acceptance.py",
    ROOT / "workflows" / "quote_steps.py",
    ROOT / "services" / "quotes" / "commands.py",
    ROOT / "services" / "quotes" / "starts.py",
    ROOT / "api" / "routers" / "khipu_webhook.py",
]


def registered_activity_names() -> set[str]:
    settings = SimpleNamespace(
        public_url="http://x",
        directory_indexer_url="http://x",
        directory_secret="s",
        indexer_secret="s",
        khipu_api_base="http://x",
        khipu_api_key="k",
        khipu_receiver_id=1,
        smtp_url="smtp://x",
        mail_from="a@b.cl",
    )
    deps: Any = SimpleNamespace(settings=settings, sessions=None, http=None, khipu=None)
    names = set()
    for fn in registry.activities(deps):
        defn = activity._Definition.from_callable(fn)
        assert defn is not None
        assert defn.name is not None
        names.add(defn.name)
    return names


def test_every_quote_activity_contract_is_registered_on_the_worker() -> None:
    registered = registered_activity_names()
    missing = [a.name for a in c.QUOTE_ACTIVITIES if a.name not in registered]
    assert missing == []


def test_quote_workflow_handlers_are_exactly_the_contracts() -> None:
    defn = workflow._Definition.from_class(QuoteWorkflow)
    assert defn is not None
    assert defn.name == c.QUOTE_WORKFLOW.name
    assert QuoteWorkflow in registry.workflows()
    assert set(defn.updates) == {u.name for u in c.QUOTE_UPDATES}
    assert set(defn.signals) == {s.name for s in c.QUOTE_SIGNALS}
    assert set(defn.queries) == {q.name for q in c.QUOTE_QUERIES}


def test_no_quote_caller_spells_a_temporal_name_by_hand() -> None:
    by_hand = []
    for path in QUOTE_CALLERS:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if (
                name in TEMPORAL_CALLS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                by_hand.append(f"{path.name}:{node.lineno} {name}({first.value!r})")
    assert by_hand == []
