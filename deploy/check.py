"""Static checks of deploy/ with real validators, offline (`make lint` runs this).

- compose.yaml against the Compose Specification's JSON schema (check-jsonschema's
  vendored copy);
- the Helm chart rendered by Helm's own engine (helm-python-sdk binds Helm's Go SDK; no
  cluster, no `helm` binary) for the self-hosted and the Temporal Cloud values, linted
  strictly (values.schema.json included), and every rendered object validated against
  the Kubernetes OpenAPI schemas shipped in kubernetes-validate, strict (unknown fields
  are errors), for the oldest and newest Kubernetes we support;
- the Caddyfile of compose with `caddy validate` (Debian package `caddy`);
- deploy/observability/: the Prometheus config and alert rules with `promtool check`, the
  rules' unit tests with `promtool test rules` (Debian package `prometheus`).

The official Temporal chart is not rendered here (its chart is not available offline);
deploy/helm/temporal-values.yaml is parsed, and tests/foundation/test_deploy_files.py
checks what it must say.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parent
CHART = DEPLOY / "helm" / "marketred"
VALUE_SETS: dict[str, list[Path]] = {
    "self-hosted Temporal": [],
    "Temporal Cloud": [DEPLOY / "helm" / "values-temporal-cloud.yaml"],
}
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
BIN = Path(sys.executable).parent
# What the Caddyfile reads from the environment (compose passes these to Caddy).
CADDY_ENV = {
    "ACME_EMAIL": "ops@marketred.example.cl",
    "MARKETRED_DOMAIN": "marketred.example.cl",
    "TEMPORAL_UI_DOMAIN": "temporal.marketred.example.cl",
    "TEMPORAL_UI_USER": "operator",
    "TEMPORAL_UI_PASSWORD_HASH": "$2a$14$Zkx19XLiW6VYouLHR5NmfOFU0z2GTNmpkT/5qqR7hx4IjWJPDhjvG",
}


class CheckFailed(Exception):
    pass


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def chart_values(extra_files: list[Path]) -> dict[str, Any]:
    """values.yaml with the given files layered over it, as `helm -f` does."""
    values: dict[str, Any] = {}
    for path in extra_files:
        values = _merge(values, yaml.safe_load(path.read_text()) or {})
    return values


def render_chart(extra_files: list[Path], *, upgrade: bool = False) -> list[dict[str, Any]]:
    """Every object the chart renders (hooks included), parsed."""
    import helm_python as helm

    with helm.Chart.load(str(CHART)) as chart:
        rendered = chart.render(
            chart_values(extra_files),
            name="marketred",
            namespace="marketred",
            is_install=not upgrade,
            is_upgrade=upgrade,
        )
    docs: list[dict[str, Any]] = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def lint_chart(extra_files: list[Path], kube_version: str) -> None:
    import helm_python as helm

    report = helm.lint(
        str(CHART), chart_values(extra_files), strict=True, kube_version=f"v{kube_version}"
    )
    problems = [m for m in report["messages"] if m["severity"] >= 2] + [
        {"path": "", "error": e} for e in report["errors"]
    ]
    if problems:
        raise CheckFailed("helm lint: " + "; ".join(f"{m['path']}: {m['error']}" for m in problems))


def validate_objects(docs: list[dict[str, Any]], kube_version: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, doc in enumerate(docs):
            path = Path(tmp) / f"{i:02d}-{doc['kind']}-{doc['metadata']['name']}.yaml"
            path.write_text(yaml.safe_dump(doc))
            files.append(str(path))
        run = subprocess.run(
            [str(BIN / "kubernetes-validate"), "--strict", "--quiet", "-k", kube_version, *files],
            capture_output=True,
            text=True,
        )
    if run.returncode != 0:
        raise CheckFailed(f"kubernetes-validate {kube_version}:\n{run.stdout}{run.stderr}")


def validate_compose() -> None:
    run = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(DEPLOY / "compose.yaml"),
        ],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        raise CheckFailed(f"compose.yaml:\n{run.stdout}{run.stderr}")


def validate_caddyfile() -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        raise CheckFailed("caddy is not installed: apt-get install caddy (.ci/run does)")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, **CADDY_ENV, "XDG_DATA_HOME": tmp, "XDG_CONFIG_HOME": tmp}
        run = subprocess.run(
            [
                caddy,
                "validate",
                "--config",
                str(DEPLOY / "compose" / "Caddyfile"),
                "--adapter",
                "caddyfile",
            ],
            capture_output=True,
            text=True,
            env=env,
        )
    if run.returncode != 0:
        raise CheckFailed(f"compose/Caddyfile:\n{run.stderr[-2000:]}")


OBSERVABILITY = DEPLOY / "observability"


def promtool(*args: str) -> None:
    tool = shutil.which("promtool")
    if tool is None:
        raise CheckFailed("promtool is not installed: apt-get install prometheus (.ci/run does)")
    done = subprocess.run(
        [tool, *args], cwd=OBSERVABILITY, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise CheckFailed((done.stdout + done.stderr).strip())


def main() -> int:
    failures = []
    steps: list[tuple[str, Any]] = [
        ("compose.yaml (Compose Specification schema)", validate_compose),
        ("compose/Caddyfile (caddy validate)", validate_caddyfile),
        (
            "observability/prometheus.yml (promtool check config)",
            lambda: promtool("check", "config", "--syntax-only", "prometheus.yml"),
        ),
        (
            "observability/alerts.yml (promtool check rules)",
            lambda: promtool("check", "rules", "alerts.yml"),
        ),
        (
            "observability/alerts.test.yml (promtool test rules)",
            lambda: promtool("test", "rules", "alerts.test.yml"),
        ),
        (
            "helm/temporal-values.yaml (parses)",
            lambda: yaml.safe_load((DEPLOY / "helm" / "temporal-values.yaml").read_text()),
        ),
    ]
    for label, files in VALUE_SETS.items():
        for version in KUBERNETES_VERSIONS:
            steps.append(
                (
                    f"chart, {label}: helm lint {version}",
                    lambda f=files, v=version: lint_chart(f, v),
                )
            )
            steps.append(
                (
                    f"chart, {label}: objects valid in Kubernetes {version}",
                    lambda f=files, v=version: validate_objects(render_chart(f), v),
                )
            )
    for label, step in steps:
        try:
            step()
        except CheckFailed as exc:
            failures.append(f"{label}: {exc}")
            print(f"FAIL  {label}")
        else:
            print(f"ok    {label}")
    for failure in failures:
        print(f"\n{failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
