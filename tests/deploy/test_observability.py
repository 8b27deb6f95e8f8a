"""deploy/observability/: the alert rules' unit tests pass under promtool (a payment held
more than an hour pages, a younger one does not, …), and every MarketRed metric the
rules and the dashboard read is one the processes export."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import marketred.api.middleware
import marketred.metrics  # registers the business metrics

OBS = Path(__file__).resolve().parents[2] / "deploy" / "observability"
_NAME = re.compile(r"\bmarketred_[a-z_]+")
_SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def _exported() -> set[str]:
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(s.name for s in family.samples)
    return names


def _base(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def test_promtool_rule_unit_tests_pass() -> None:
    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool missing: apt-get install prometheus (.ci/run does)"
    done = subprocess.run(
        [promtool, "test", "rules", "alerts.test.yml"],
        cwd=OBS,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def test_rules_and_dashboard_read_only_exported_metrics() -> None:
    del marketred.api.middleware  # imported for its HTTP metrics
    rules = yaml.safe_load((OBS / "alerts.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    dashboard = json.loads((OBS / "grafana" / "marketred.json").read_text())
    exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exported = _exported()
    used = {name for expr in exprs for name in _NAME.findall(expr)}
    assert used, "the rules name no MarketRed metric"
    unknown = sorted(n for n in used if n not in exported and _base(n) not in exported)
    assert not unknown, f"rules or dashboard read metrics nobody exports: {unknown}"
    # Alerts on the engine use the SDK's names as the worker exports them (counters with
    # _total, durations in seconds: workers/sdk_metrics.py).
    assert any("temporal_activity_schedule_to_start_latency_bucket" in e for e in exprs)
