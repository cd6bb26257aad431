"""docker-compose.yml and the Dockerfile: no Docker engine here, so read them as data."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = {"web", "worker", "beat"}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile():
    return (ROOT / "Dockerfile").read_text()


def command_text(service) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def health_test(service) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


def test_compose_runs_the_app_beside_postgres_redis_and_mailpit(services):
    assert set(services) == APP_SERVICES | {"postgres", "redis", "mailpit"}
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    assert services["mailpit"]["image"].startswith("axllent/mailpit:")
    for name in APP_SERVICES:
        assert services[name]["build"] == "."


def test_every_service_has_a_health_check(services):
    for name, service in services.items():
        assert service["healthcheck"]["test"], name
    assert "http://127.0.0.1:8000/healthz" in health_test(services["web"])
    assert "pg_isready" in health_test(services["postgres"])
    assert "redis-cli ping" in health_test(services["redis"])
    assert "readyz" in health_test(services["mailpit"])
    assert "inspect ping --destination celery@$$HOSTNAME" in health_test(services["worker"])
    assert "inspect ping --destination celerybeat@$$HOSTNAME" in health_test(services["beat"])
    # Beat answers that ping only when asked to.
    assert "--enable-remote-control" in command_text(services["beat"])


def test_every_dependency_waits_for_a_healthy_service(services):
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert rule == {"condition": "service_healthy"}, (name, dependency)
            assert "healthcheck" in services[dependency], dependency
    assert {"postgres", "redis"} <= set(services["web"]["depends_on"])
    # Worker and beat start after web has migrated the database.
    assert "web" in services["worker"]["depends_on"]
    assert "web" in services["beat"]["depends_on"]
    assert "web" not in services["web"]["depends_on"]


def test_web_migrates_before_gunicorn_serves_on_port_8000(services):
    command = command_text(services["web"])
    assert re.search(r"manage\.py migrate --noinput && exec gunicorn walkandtalk\.wsgi", command)
    assert "--bind 0.0.0.0:8000" in command
    assert "127.0.0.1:8000:8000" in services["web"]["ports"]  # reached through the proxy only


def test_worker_and_beat_run_celery_with_beats_schedule_in_a_volume(compose, services):
    assert command_text(services["worker"]).startswith("celery -A walkandtalk worker")
    beat = command_text(services["beat"])
    assert beat.startswith("celery -A walkandtalk beat")
    schedule = re.search(r"--schedule (\S+)", beat).group(1)
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in services["beat"]["volumes"]}
    assert any(schedule.startswith(target + "/") for target in mounts)
    assert set(mounts.values()) <= set(compose["volumes"])


def test_app_services_share_an_environment_pointing_at_the_other_services(services):
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), name
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
        assert env["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
        assert env["EMAIL_HOST"] == "mailpit"
        assert env["EMAIL_PORT"] == "1025"
        assert env["SECURE_SSL_REDIRECT"] == "0"
        assert "ALLOWED_HOSTS" in env
        assert "SITE_URL" in env
        # The health check asks for /healthz as 127.0.0.1, whatever hosts are configured.
        assert env["ALLOWED_HOSTS"].endswith(",127.0.0.1")


def test_every_variable_given_to_the_app_is_one_the_settings_read(services):
    settings_source = (ROOT / "walkandtalk" / "settings.py").read_text()
    read = set(
        re.findall(r"""(?:os\.environ\.get|env_bool|env_list)\(\s*["'](\w+)["']""", settings_source)
    )
    read.add("WEB_CONCURRENCY")  # gunicorn's own
    for name in APP_SERVICES:
        unknown = set(services[name]["environment"]) - read
        assert not unknown, (name, unknown)


def test_the_image_is_python_311_slim_run_by_a_user_who_is_not_root(dockerfile):
    assert re.search(r"^FROM python:3\.11-slim\s*$", dockerfile, re.MULTILINE)
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}


def test_the_image_installs_with_the_build_constraint_and_no_dev_tools(dockerfile):
    assert "pip install --build-constraint build-constraints.txt ." in dockerfile
    assert "[dev]" not in dockerfile
    assert re.search(r"SECRET_KEY=\S+ python manage\.py collectstatic --noinput", dockerfile)


def test_the_image_leaves_local_environments_and_data_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "var", ".git", ".env"} <= set(ignored)


def test_behind_its_proxy_the_stack_believes_https_and_sends_hsts(services, client, settings):
    """What the README says: HSTS stays on in the compose stack. The proxy that ends TLS tells
    gunicorn so in X-Forwarded-Proto, which the stack believes by default."""
    env = services["web"]["environment"]
    assert env["TRUST_X_FORWARDED_PROTO"] == "${TRUST_X_FORWARDED_PROTO:-1}"
    assert env["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "walkandtalk.settings",
            "DEBUG": "0",
            "SECRET_KEY": "x" * 50,
            "TRUST_X_FORWARDED_PROTO": "1",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get("/about/", headers={"x-forwarded-proto": "https"})
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get("/about/")  # plain HTTP: none
