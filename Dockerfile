# Walk and Talk: one image for the web (gunicorn), the Celery worker and Celery beat.
# docker-compose.yml runs it with PostgreSQL, Redis and Mailpit beside it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # manage.py, gunicorn and celery all import the project from /app, so templates/ and
    # static/ are found beside it (settings.BASE_DIR), whatever pip put in site-packages.
    PYTHONPATH=/app \
    VAR_DIR=/app/var

WORKDIR /app

# The app runs as this user, never as root.
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin walkandtalk

COPY . .

# --build-constraint: XStatic-Bootstrap ships only an sdist whose setup.py needs pkg_resources,
# which setuptools 81 removed (see build-constraints.txt). No dev extra: no test tools here.
RUN pip install --upgrade pip \
    && pip install --build-constraint build-constraints.txt .

# Static files are collected once, into the image. Settings refuse to load without a
# SECRET_KEY when DEBUG is off, so a throwaway one is given to this command only.
RUN SECRET_KEY=collectstatic-only-not-secret python manage.py collectstatic --noinput \
    && mkdir -p /app/var /var/lib/celery-beat \
    && chown -R walkandtalk:walkandtalk /app/var /var/lib/celery-beat

USER walkandtalk

EXPOSE 8000

# gunicorn's access log stays off: it would write booking-management tokens from URLs to logs.
CMD ["gunicorn", "walkandtalk.wsgi", "--bind", "0.0.0.0:8000"]
