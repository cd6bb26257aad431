from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from . import readiness


@never_cache
def healthz(request):
    """200 while the database answers, 503 when it does not: for load balancers and compose."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@never_cache
def readyz(request):
    """200 when the whole system is doing its work: the database, the cache and the broker
    answer, the outbox is not falling behind and beat's sweep ran lately (walkandtalk/
    readiness.py); otherwise 503 with `failed` naming each check that did not pass. For
    monitoring and alerts: the answer is about the system, not only this process, so a load
    balancer that takes web processes out of service should ask /healthz (README)."""
    checks = readiness.run_checks()
    failed = [name for name, answer in checks.items() if answer != "ok"]
    body = {"status": "unavailable" if failed else "ok", "failed": failed, "checks": checks}
    return JsonResponse(body, status=503 if failed else 200)


# Django's own 400 and CSRF failure views render their templates without the request, so
# without the site's context: the layout's links, the exit control's URL, the CSP nonce.


def bad_request(request, exception):
    return render(request, "400.html", status=400)


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)


def server_error(request):
    """The 500 page with the site's context (the exit control needs its URL)."""
    return render(request, "500.html", status=500)
