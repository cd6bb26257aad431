"""`/metrics` for Prometheus: what the system has done, and how fast the web answers.

Two kinds of figure, each chosen to stay right when gunicorn runs several worker processes:

- **The scheme's figures** (bookings made, places given from the waiting list, the outbox,
  debriefs and concerns) are read from the database when Prometheus scrapes, by `Figures`, a
  custom collector: whichever worker answers, every worker would give the same numbers, so
  nothing is kept in a process. An app adds its figures from its AppConfig.ready with
  `register` (bookings: bookings and the outbox; concerns: debriefs and concerns), so the
  ground never names an app's models (docs/architecture.md). Each is a few aggregate queries,
  bounded by the statement timeout (DATABASE_STATEMENT_TIMEOUT). They are gauges: rows that
  are counted can be deleted (the purge deletes old outbox rows), and a counter that went down
  would read as a restart to Prometheus.
- **Requests and their latency by view** are counted in each process by `RequestMetrics`.
  Under gunicorn they go through prometheus-client's multiprocess mode: gunicorn.conf.py sets
  PROMETHEUS_MULTIPROC_DIR before any worker starts, each worker writes its counts to files
  there, and a scrape adds up every worker's files (`MultiProcessCollector`), dead workers'
  included. Without that variable (runserver, the tests) the counts are this process's own.

Requests are labelled by the view's name as the URL resolver knows it
(`request.resolver_match.view_name`, such as `website:walk_detail`), never by the path: paths
hold tokens (`/bookings/manage/<token>/`). A request that matched no URL is `unresolved`.

The page needs `Authorization: Bearer <METRICS_TOKEN>`; when METRICS_TOKEN is unset it does not
exist (404), and a missing or wrong token is a 401.
"""

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, transaction
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

PREFIX = "walkandtalk"
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

# Not registered in prometheus-client's default registry: the page builds its own registry on
# each scrape (below), so these are added to it in a single process, or read from the
# multiprocess files under gunicorn.
REQUESTS = Counter(
    f"{PREFIX}_http_requests",
    "Requests answered, by view name, method and status code.",
    ["view", "method", "status"],
    registry=None,
)
LATENCY = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer a request, by view name.",
    ["view"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=None,
)

# --- the scheme's figures, read from the database ---------------------------------------------

FiguresSource = Callable[[datetime], Iterable[Metric]]
_sources: dict[str, FiguresSource] = {}


def register(name: str, source: FiguresSource) -> None:
    """Add `source(now)`, which yields metric families read from the database, under `name`.
    Registering a name twice is two owners, and raises."""
    if _sources.setdefault(name, source) is not source:
        raise ValueError(f"Metrics source {name!r} is already registered.")


def gauge(name: str, documentation: str, value: float | None = None, labels=()):
    """A gauge family named under the project's prefix (a helper for the sources)."""
    family = GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=list(labels) or None)
    if value is not None:
        family.add_metric([], value)
    return family


class Figures:
    """prometheus-client's custom collector for the registered sources. A source whose
    database does not answer is left out of this scrape, and `walkandtalk_figures_up` says so;
    the request figures are still served."""

    def collect(self):
        now = timezone.now()
        up = GaugeMetricFamily(
            f"{PREFIX}_figures_up",
            "1 when this source of figures answered this scrape, 0 when its database did not.",
            labels=["source"],
        )
        for name, source in _sources.items():
            try:
                # A savepoint each: a source that failed inside a transaction (a test's) does
                # not fail the ones after it.
                with transaction.atomic():
                    families = list(source(now))
            except DatabaseError:
                logger.warning("Metrics source %s did not answer", name, exc_info=True)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


def registry_for_scrape() -> CollectorRegistry:
    """A registry holding everything one scrape reports."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(Figures())
    return registry


# --- requests, by view -----------------------------------------------------------------------


def view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match else "") or "unresolved"


class RequestMetricsMiddleware:
    """Counts each request and times it, labelled by the view's name. First in MIDDLEWARE, so
    the time covers every other middleware and a redirect or refusal is counted too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_name(request)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        LATENCY.labels(view).observe(time.perf_counter() - started)
        return response


# --- the page --------------------------------------------------------------------------------


def token_matches(request, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


@never_cache
@require_GET
def metrics(request):
    """What Prometheus scrapes. 404 when METRICS_TOKEN is unset: the page is not
    there at all; 401 without the token."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    if not token_matches(request, token):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    # The text format, or OpenMetrics when the scraper's Accept header asks for it.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(registry_for_scrape()), content_type=content_type)
