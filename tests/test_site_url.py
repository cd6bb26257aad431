"""The demo's emails link to the port it serves on: `PORT=8123 make run` writes links to
http://127.0.0.1:8123, from the web and from the worker that sends them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def site_url(**env) -> str:
    """SITE_URL as settings read it in a fresh process with this environment."""
    base = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "PORT", "DEBUG")}
    result = subprocess.run(
        [sys.executable, "-c", "from walkandtalk import settings; print(settings.SITE_URL)"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_the_demo_links_to_the_port_it_serves_on():
    assert site_url(DEBUG="1", PORT="8123") == "http://127.0.0.1:8123"
    assert site_url(DEBUG="1") == "http://127.0.0.1:8000"


def test_a_site_url_that_is_set_wins_over_the_port():
    # The worker under honcho: PORT is its own (8223), SITE_URL is the web's.
    assert site_url(DEBUG="1", PORT="8223", SITE_URL="http://127.0.0.1:8123/") == (
        "http://127.0.0.1:8123"
    )


def test_production_does_not_guess_its_address_from_the_port():
    assert site_url(DEBUG="0", PORT="8123") == "http://127.0.0.1:8000"


def test_make_run_gives_every_process_the_served_port_as_site_url():
    result = subprocess.run(
        ["make", "-n", "run"],
        cwd=ROOT,
        env={**os.environ, "PORT": "8123"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    commands = [
        line for line in result.stdout.splitlines() if "manage.py" in line or "honcho" in line
    ]
    assert len(commands) == 3, result.stdout  # migrate, seed_demo, honcho (web, worker, beat)
    for command in commands:
        assert "SITE_URL=http://127.0.0.1:8123 " in command, command
    assert commands[-1].endswith("start --port 8123")
