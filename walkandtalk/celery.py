"""The Celery app, configured from Django's settings (the CELERY_ names)."""

import logging
import os
from urllib.parse import urlsplit

from celery import Celery
from celery.signals import beat_init, celeryd_init

from walkandtalk import breaker

logger = logging.getLogger(__name__)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "walkandtalk.settings")

app = Celery("walkandtalk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def make_broker_folders(sender, **kwargs):
    # Kombu's filesystem transport expects its folders to exist already.
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)


@celeryd_init.connect
@beat_init.connect
def start_error_reporting(**kwargs):
    """The worker's and beat's errors go to Sentry when SENTRY_DSN is set (walkandtalk/
    errors.py): started here, as each starts, whichever way it loaded the settings."""
    from django.conf import settings

    from walkandtalk import errors

    errors.start(settings.SENTRY_DSN, settings.SENTRY_ENVIRONMENT)


def publish(name: str, *args) -> None:
    """Send a task to the workers, or give up quietly: every task the web publishes stands for
    an outbox row that beat's sweep sends anyway. A broker that did not answer a moment ago is
    not tried again until its cooldown has passed (walkandtalk.breaker), so a stuck Redis costs
    a request one short timeout at most."""
    url = urlsplit(app.conf.broker_write_url or app.conf.broker_url or "")
    server = f"{url.hostname}:{url.port or 6379}" if url.scheme == "redis" else None
    try:
        if server:
            breaker.check(server)
        app.send_task(name, args=args)
    except Exception:  # noqa: BLE001 - the outbox row waits for the sweep
        if server and not breaker.is_down(server):
            breaker.went_down(server)
        logger.warning("Broker unavailable: %s left for the sweep", name, exc_info=True)
