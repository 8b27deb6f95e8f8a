"""What the deployment files must say, read the way the tools read them: compose.yaml as
YAML, the Helm chart rendered by Helm's engine, the Dockerfile as instructions. (The
schema validation itself is `python -m deploy.check`, in `make lint`; the last tests here
show that it fails on broken files.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import check
from marketred.settings import Settings
from marketred.workers.worker import GRACEFUL_SHUTDOWN
from tests.support.caddy import caddy_binary

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
ONE_SHOTS = {"temporal-schema", "temporal-namespace", "migrate"}
DEV_IMAGES = ("temporalio/auto-setup", "temporalio/temporal", "temporalio/admin-tools:latest")


def _strings(node: Any) -> list[str]:
    """Every string of a parsed YAML document (keys and values)."""
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [node] if isinstance(node, str) else []


def _seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, duration
    return int(match.group(1))


# --- compose -----------------------------------------------------------------


def test_compose_publishes_only_the_proxy_and_no_host_port_twice() -> None:
    published = {
        name: [str(p).split(":")[0] for p in svc.get("ports", [])] for name, svc in SERVICES.items()
    }
    assert {n for n, ports in published.items() if ports} == {"caddy"}
    host_ports = [p for ports in published.values() for p in ports]
    tcp_ports = [str(p) for p in SERVICES["caddy"]["ports"] if not str(p).endswith("/udp")]
    assert len(tcp_ports) == len(set(tcp_ports)), host_ports
    # Replicated services publish nothing (a fixed host port cannot be bound twice).
    for name, svc in SERVICES.items():
        if svc.get("deploy", {}).get("replicas", 1) > 1:
            assert "ports" not in svc, name


def test_compose_images_are_pinned_and_not_development_images() -> None:
    for name, svc in SERVICES.items():
        image = svc["image"]
        assert not image.startswith(DEV_IMAGES), (name, image)
        if "build" in svc:
            assert image.startswith("marketred:${MARKETRED_VERSION"), (name, image)
            continue
        tag = image.rsplit(":", 1)[1] if ":" in image else "latest"
        # A release (major.minor at least), not a moving tag such as latest or 16.
        assert re.match(r"\d+\.\d+", tag), f"{name}: {image} is not pinned to a version"
    assert SERVICES["temporal"]["image"].startswith("temporalio/server:")
    assert SERVICES["temporal-schema"]["image"].startswith("temporalio/admin-tools:")
    # Server and admin tools pin the same Temporal version (chart 1.6.0 pins it too).
    server_version = SERVICES["temporal"]["image"].split(":")[1]
    assert SERVICES["temporal-schema"]["image"].endswith(f":{server_version}")
    assert SERVICES["temporal-namespace"]["image"].endswith(f":{server_version}")


def test_temporal_runs_on_postgres_with_its_schema_set_up_by_admin_tools() -> None:
    temporal = SERVICES["temporal"]
    assert temporal["environment"]["DB"] == "postgres12"
    assert temporal["environment"]["POSTGRES_SEEDS"] == "postgres"
    assert temporal["depends_on"]["temporal-schema"]["condition"] == (
        "service_completed_successfully"
    )
    script = SERVICES["temporal-schema"]["command"][0]
    for step in ("create-database", "setup-schema -v 0.0", "update-schema"):
        assert step in script
    assert "/etc/temporal/schema/postgresql/v12/" in script
    assert SERVICES["temporal-schema"]["environment"]["SQL_PLUGIN"] == "postgres12"
    namespace = SERVICES["temporal-namespace"]["command"][0]
    assert "--retention" in namespace


def test_every_long_running_service_has_a_health_check_and_a_restart_policy() -> None:
    for name, svc in SERVICES.items():
        if name in ONE_SHOTS:
            assert svc["restart"] == "no", name
            continue
        assert svc["restart"] == "unless-stopped", name
        assert svc["healthcheck"]["test"], name


CADDY_ENV = {
    "MARKETRED_DOMAIN": "shop.example.cl",
    "TEMPORAL_UI_DOMAIN": "temporal.example.cl",
    "ACME_EMAIL": "ops@example.cl",
    "TEMPORAL_UI_USER": "ops",
    "TEMPORAL_UI_PASSWORD_HASH": "$2a$14$placeholderplaceholderplacehold",
}


def _caddy_routes(caddyfile: Path) -> dict[str, list[dict[str, Any]]]:
    """The Caddyfile as Caddy itself reads it (`caddy adapt` → its JSON config): for each
    host, the handlers of its route in order. Comments and dead text do not count."""
    adapted = subprocess.run(
        [caddy_binary(), "adapt", "--config", str(caddyfile), "--adapter", "caddyfile"],
        env={**os.environ, **CADDY_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    config = json.loads(adapted.stdout)
    out: dict[str, list[dict[str, Any]]] = {}
    for server in config["apps"]["http"]["servers"].values():
        for route in server["routes"]:
            handlers = [
                h
                for top in route.get("handle", [])
                for sub in top.get("routes", [{"handle": [top]}])
                for h in sub.get("handle", [])
            ]
            for match in route.get("match", []):
                for host in match.get("host", []):
                    out[host] = handlers
    return out


def test_the_temporal_ui_is_reached_only_through_the_proxy_with_a_password() -> None:
    assert "ports" not in SERVICES["temporal-ui"]
    routes = _caddy_routes(DEPLOY / "compose" / "Caddyfile")
    ui = routes[CADDY_ENV["TEMPORAL_UI_DOMAIN"]]
    kinds = [h["handler"] for h in ui]
    assert kinds == ["authentication", "reverse_proxy"], kinds
    basic = ui[0]["providers"]["http_basic"]
    assert basic["hash"]["algorithm"] == "bcrypt"
    assert [a["username"] for a in basic["accounts"]] == [CADDY_ENV["TEMPORAL_UI_USER"]]
    assert [u["dial"] for u in ui[1]["upstreams"]] == ["temporal-ui:8080"]
    # The shop's site proxies to the API replicas and never to the Temporal UI.
    shop = routes[CADDY_ENV["MARKETRED_DOMAIN"]]
    proxies = [h for h in shop if h["handler"] == "reverse_proxy"]
    assert [p["dynamic_upstreams"]["name"] for p in proxies] == ["api"]


def test_a_commented_out_password_is_seen_as_no_password(tmp_path: Path) -> None:
    """The check reads what Caddy runs: with `basicauth` commented out, the words are
    still in the file but the UI's route has no authentication handler."""
    text = (DEPLOY / "compose" / "Caddyfile").read_text()
    site = text[text.index("{$TEMPORAL_UI_DOMAIN} {") :]
    start = site.index("basicauth")
    block = site[start : site.index("\n\t}", start) + 3]  # up to its closing brace
    commented = "\n".join("# " + line for line in block.splitlines())
    broken = tmp_path / "Caddyfile"
    broken.write_text(text.replace(block, commented))
    assert "basicauth" in broken.read_text()
    ui = _caddy_routes(broken)[CADDY_ENV["TEMPORAL_UI_DOMAIN"]]
    assert [h["handler"] for h in ui] == ["reverse_proxy"]


def test_api_and_workers_run_from_one_image_after_the_migration() -> None:
    for name in ("migrate", "api", "worker"):
        svc = SERVICES[name]
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
        assert svc["env_file"] == ["marketred.env"]
        assert svc["command"] == ["marketred", name]
    for name in ("api", "worker"):
        needs = SERVICES[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["temporal-namespace"]["condition"] == "service_completed_successfully"
        assert SERVICES[name]["deploy"]["replicas"] >= 2


def test_worker_gets_longer_than_its_graceful_shutdown() -> None:
    grace = _seconds(SERVICES["worker"]["stop_grace_period"])
    assert grace >= GRACEFUL_SHUTDOWN.total_seconds() + 5
    assert SERVICES["worker"]["environment"]["MARKETRED_WORKER_HEALTH_PORT"] == "8001"
    assert "8001/readyz" in " ".join(SERVICES["worker"]["healthcheck"]["test"])


def test_the_api_trusts_forwarded_headers_from_the_proxy_only() -> None:
    caddy_ip = SERVICES["caddy"]["networks"]["edge"]["ipv4_address"]
    assert SERVICES["api"]["environment"]["MARKETRED_FORWARDED_ALLOW_IPS"] == caddy_ip
    assert COMPOSE["networks"]["backend"]["internal"] is True


def test_env_example_names_real_settings_and_every_compose_variable() -> None:
    fields = {f.upper() for f in Settings.model_fields}
    # Variables compose interpolates: in the parsed file's values, so a commented-out
    # line names none.
    compose_values = " ".join(_strings(COMPOSE))
    compose_vars = set(re.findall(r"\$\{([A-Z_]+)", compose_values))
    required = set(re.findall(r"\$\{([A-Z_]+):\?", compose_values))
    names = set()
    for line in (DEPLOY / "marketred.env.example").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name = line.split("=", 1)[0]
        names.add(name)
        known = name == "DATABASE_URL" or name.removeprefix("MARKETRED_").lower() in {
            f.lower() for f in fields
        }
        assert known or name in compose_vars, f"{name} is neither a setting nor used by compose"
    assert required <= names, required - names


def test_dockerfile_runs_as_non_root_in_production_mode() -> None:
    instructions = _dockerfile_instructions((DEPLOY / "Dockerfile").read_text())
    final_stage = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    users = [arg for op, arg in final_stage if op == "USER"]
    assert users
    assert users[-1] not in ("root", "0")
    env = " ".join(arg for op, arg in final_stage if op == "ENV")
    assert "MARKETRED_ENV=production" in env.split()
    cmd = [arg for op, arg in final_stage if op == "CMD"][-1]
    assert json.loads(cmd) == ["marketred", "api"]


def _dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        op, _, args = (pending + line).partition(" ")
        out.append((op.upper(), args.strip()))
        pending = ""
    return out


# --- Helm chart (rendered by Helm's engine) -------------------------------------


@pytest.fixture(scope="module", params=list(check.VALUE_SETS), ids=list(check.VALUE_SETS))
def rendered(request: pytest.FixtureRequest) -> dict[tuple[str, str], dict[str, Any]]:
    docs = check.render_chart(check.VALUE_SETS[request.param])
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def _container(doc: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = doc["spec"]["template"]["spec"]["containers"][0]
    return found


def test_chart_has_the_production_objects(rendered) -> None:  # type: ignore[no-untyped-def]
    assert set(rendered) >= {
        ("Deployment", "marketred-api"),
        ("Service", "marketred-api"),
        ("Ingress", "marketred"),
        ("HorizontalPodAutoscaler", "marketred-api"),
        ("PodDisruptionBudget", "marketred-api"),
        ("Deployment", "marketred-worker"),
        ("PodDisruptionBudget", "marketred-worker"),
        ("Job", "marketred-migrate"),
        ("ConfigMap", "marketred-config"),
        ("NetworkPolicy", "marketred-api"),
        ("NetworkPolicy", "marketred-worker"),
        ("NetworkPolicy", "marketred-egress"),
    }


def test_ingress_terminates_tls_for_the_public_host(rendered) -> None:  # type: ignore[no-untyped-def]
    ingress = rendered[("Ingress", "marketred")]["spec"]
    host = ingress["rules"][0]["host"]
    assert host == "marketred.example.cl"
    assert ingress["tls"] == [{"hosts": [host], "secretName": "marketred-tls"}]
    backend = ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "marketred-api"


def test_migration_runs_before_install_and_upgrade(rendered) -> None:  # type: ignore[no-untyped-def]
    job = rendered[("Job", "marketred-migrate")]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert _container(job)["command"] == ["marketred", "migrate"]
    # What the job reads exists before it: the ConfigMap is an earlier hook.
    config = rendered[("ConfigMap", "marketred-config")]["metadata"]["annotations"]
    assert int(config["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"]
    )


def test_workers_are_probed_on_their_health_endpoint(rendered) -> None:  # type: ignore[no-untyped-def]
    worker = rendered[("Deployment", "marketred-worker")]
    container = _container(worker)
    env = {e["name"]: e["value"] for e in container["env"]}
    port = int(env["MARKETRED_WORKER_HEALTH_PORT"])
    assert container["ports"] == [{"name": "health", "containerPort": port, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    spec = worker["spec"]["template"]["spec"]
    assert spec["terminationGracePeriodSeconds"] >= GRACEFUL_SHUTDOWN.total_seconds() + 5
    assert worker["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_api_probes_scaling_and_disruption_budget(rendered) -> None:  # type: ignore[no-untyped-def]
    api = rendered[("Deployment", "marketred-api")]
    container = _container(api)
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MARKETRED_FORWARDED_ALLOW_IPS"]
    hpa = rendered[("HorizontalPodAutoscaler", "marketred-api")]["spec"]
    assert hpa["minReplicas"] >= 2
    assert hpa["scaleTargetRef"]["name"] == "marketred-api"
    pdb = rendered[("PodDisruptionBudget", "marketred-api")]["spec"]
    assert pdb["minAvailable"] >= 1
    assert pdb["selector"]["matchLabels"] == api["spec"]["selector"]["matchLabels"]


def test_every_container_has_requests_limits_and_runs_unprivileged(rendered) -> None:  # type: ignore[no-untyped-def]
    for key, doc in rendered.items():
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, key
        for c in pod["containers"]:
            assert c["resources"]["requests"]["memory"], key
            assert c["resources"]["limits"]["memory"], key
            assert c["securityContext"]["allowPrivilegeEscalation"] is False, key


def test_api_takes_traffic_from_the_ingress_controller_only(rendered) -> None:  # type: ignore[no-untyped-def]
    policy = rendered[("NetworkPolicy", "marketred-api")]["spec"]
    assert policy["policyTypes"] == ["Ingress"]
    sources = policy["ingress"][0]["from"]
    assert sources == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]
    assert rendered[("NetworkPolicy", "marketred-worker")]["spec"]["ingress"] == []


def test_temporal_connection_settings_match_the_mounted_certificates(rendered) -> None:  # type: ignore[no-untyped-def]
    config = rendered[("ConfigMap", "marketred-config")]["data"]
    worker = rendered[("Deployment", "marketred-worker")]
    mounts = {m["mountPath"] for m in _container(worker)["volumeMounts"]}
    assert config["MARKETRED_TEMPORAL_TLS"] == "true"
    for setting in ("MARKETRED_TEMPORAL_TLS_CERT_FILE", "MARKETRED_TEMPORAL_TLS_KEY_FILE"):
        assert str(Path(config[setting]).parent) in mounts
    if config["MARKETRED_TEMPORAL_ADDRESS"].endswith(".tmprl.cloud:7233"):
        # Temporal Cloud: its certificate is public, no CA of ours.
        assert "MARKETRED_TEMPORAL_TLS_CA_FILE" not in config
        assert config["MARKETRED_TEMPORAL_NAMESPACE"].count(".") == 1
    else:
        assert str(Path(config["MARKETRED_TEMPORAL_TLS_CA_FILE"]).parent) in mounts
    # Every key is a real setting.
    fields = {f"MARKETRED_{f.upper()}" for f in Settings.model_fields}
    assert set(config) <= fields


def test_official_temporal_chart_values_persist_on_postgres_with_retention() -> None:
    values = yaml.safe_load((DEPLOY / "helm" / "temporal-values.yaml").read_text())
    stores = values["server"]["config"]["persistence"]["datastores"]
    for store in ("default", "visibility"):
        sql = stores[store]["sql"]
        assert sql["pluginName"] == "postgres12"
        assert sql["manageSchema"] is True
        assert "password" not in sql  # from the Secret named in existingSecret
    namespaces = values["server"]["config"]["namespaces"]
    assert namespaces["create"] is True
    assert {"name": "marketred", "retention": "30d"} in namespaces["namespace"]
    assert values["server"]["tls"]["frontend"]["requireClientAuth"] is True
    assert values["web"]["ingress"]["enabled"] is False
    assert values["web"]["service"]["type"] == "ClusterIP"


# --- the checker fails on broken files ---------------------------------------------


def test_kubernetes_validation_rejects_an_unknown_field(rendered) -> None:  # type: ignore[no-untyped-def]
    deployment = json.loads(json.dumps(rendered[("Deployment", "marketred-worker")]))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}
    with pytest.raises(check.CheckFailed, match="livenessProbes"):
        check.validate_objects([deployment], check.KUBERNETES_VERSIONS[0])


def test_compose_validation_rejects_a_misspelled_key(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    broken = dict(COMPOSE)
    broken["services"] = {**SERVICES, "api": {**SERVICES["api"], "stop_grace": "15s"}}
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(broken))
    monkeypatch.setattr(check, "DEPLOY", tmp_path)
    with pytest.raises(check.CheckFailed, match="stop_grace"):
        check.validate_compose()


def test_helm_lint_enforces_the_values_schema() -> None:
    import helm_python as helm

    report = helm.lint(str(check.CHART), {"publicUrl": "http://insecure.example.cl"}, strict=True)
    assert any("publicUrl" in m["error"] for m in report["messages"]), report
