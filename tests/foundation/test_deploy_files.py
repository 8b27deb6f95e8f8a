"""Static checks of deploy/ (no Docker engine here): files parse and run our commands."""

from pathlib import Path

import yaml

from marketred.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_compose_runs_migrate_api_and_worker_from_one_image():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert services["migrate"]["command"] == ["marketred", "migrate"]
    assert services["api"]["command"] == ["marketred", "api"]
    assert services["worker"]["command"] == ["marketred", "worker"]
    for name in ("migrate", "api", "worker"):
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["api"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_k8s_manifests_probe_health_endpoints():
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "marketred.yaml").read_text()))
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("Deployment", "marketred-api") in kinds
    assert ("Deployment", "marketred-worker") in kinds
    assert ("Job", "marketred-migrate") in kinds
    api = next(d for d in docs if d["metadata"]["name"] == "marketred-api")
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_env_example_names_real_settings():
    fields = {f.upper() for f in Settings.model_fields}
    for line in (DEPLOY / "marketred.env.example").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name = line.split("=", 1)[0]
        assert name == "DATABASE_URL" or name.removeprefix("MARKETRED_") in fields, name


def test_dockerfile_runs_as_non_root_in_production_mode():
    text = (DEPLOY / "Dockerfile").read_text()
    assert "USER marketred" in text
    assert "MARKETRED_ENV=production" in text
    assert 'CMD ["marketred", "api"]' in text
