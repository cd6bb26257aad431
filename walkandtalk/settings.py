"""Walk and Talk settings: one file, read from the environment.

Safe for production when a variable is missing: DEBUG is off, SECRET_KEY is required, cookies
are secure. `make run` turns DEBUG on and uses the embedded defaults (SQLite, Celery's
filesystem broker, mail written to files under var/).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from xstatic.pkg import bootstrap as xstatic_bootstrap

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "development-only-not-secret"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
# The address every link in an email starts with. The demo (DEBUG) serves on PORT, so its
# links follow it: `PORT=8123 make run` writes links to http://127.0.0.1:8123. (The Makefile
# sets SITE_URL for the worker too: honcho gives each process a PORT of its own.)
_served_at = f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}" if DEBUG else ""
SITE_URL = os.environ.get("SITE_URL", _served_at or "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", SITE_URL)

# The project's own apps, from the domain at the bottom to the screens on top
# (docs/architecture.md).
PROJECT_APPS = [
    "patrols",
    "bookings",
    "concerns",
    "partners",
    "privacy",
    "reports",
    "website",
    "staff",
]

INSTALLED_APPS = [
    "walkandtalk.apps.AdminConfig",  # django.contrib.admin on walkandtalk.admin_site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    *PROJECT_APPS,
    # Security and privacy (issue 8): staff second factor, lockout, CSP, audit history.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "simple_history",
]

MIDDLEWARE = [
    # First: counts and times every request by view name for /metrics (walkandtalk/metrics.py).
    "walkandtalk.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "walkandtalk.security.PathHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "walkandtalk.security.StaffTwoFactorMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "walkandtalk.urls"
WSGI_APPLICATION = "walkandtalk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "walkandtalk.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# A PostgreSQL that accepts connections and never answers must not hang a request or a task:
# connecting gives up after DATABASE_CONNECT_TIMEOUT seconds (2 at least, libpq's floor), and a
# statement after DATABASE_STATEMENT_TIMEOUT seconds. Work that may take longer raises the
# statement timeout where it runs (walkandtalk.db.statement_timeout: the reports, the CSV, the
# purge, the demo data). Keepalives notice a server gone from the network. A server frozen on
# a connection already open is left to gunicorn's worker timeout and Celery's time limits.
DATABASE_STATEMENT_TIMEOUT = float(os.environ.get("DATABASE_STATEMENT_TIMEOUT", "10"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3")),
        "options": f"-c statement_timeout={int(DATABASE_STATEMENT_TIMEOUT * 1000)}",
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        **DATABASES["default"].get("OPTIONS", {}),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded demo runs web, worker and beat against one file: wait for locks.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
# Times as the police write them, "17:38", wherever Django formats a date or time (the admin):
# en-gb's own formats say "5:38 p.m.". The public pages write "6:30pm" with their own filters
# (bookings/templatetags/walk_time.py), so this does not reach them.
FORMAT_MODULE_PATH = ["walkandtalk.formats"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", xstatic_bootstrap.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the finders when collectstatic has not run (development and tests).
WHITENOISE_USE_FINDERS = DEBUG or not STATIC_ROOT.exists()

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Mail: Django's own settings. Unless told otherwise, each message is written to its own .eml file
# under var/mail/ (walkandtalk/mailfiles.py), which any mail program opens; with DEBUG, /dev/mail/
# lists them (walkandtalk/devmail.py).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "walkandtalk.mailfiles.EmlFileBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Met Walk and Talk <walkandtalk@example.org>"
)
# The sender shown to women who asked for discreet emails: nothing about the police.
DISCREET_FROM_EMAIL = os.environ.get("DISCREET_FROM_EMAIL", "Walk bookings <bookings@example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Text messages (walkandtalk/sms.py): her reminders by text, if she chooses. Through GOV.UK
# Notify when NOTIFY_API_KEY is set (one template whose content is ((body))); written to files
# in SMS_FILE_PATH otherwise (the demo: var/sms/ on DEBUG); with neither, texts are off and the
# booking form does not offer them. SMS_BACKEND names a backend outright.
NOTIFY_API_KEY = os.environ.get("NOTIFY_API_KEY", "")
NOTIFY_SMS_TEMPLATE_ID = os.environ.get("NOTIFY_SMS_TEMPLATE_ID", "")
NOTIFY_BASE_URL = os.environ.get("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
# Seconds one request to Notify may take: a sweep must not hang on it.
NOTIFY_TIMEOUT = float(os.environ.get("NOTIFY_TIMEOUT", "10"))
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(VAR_DIR / "sms") if DEBUG else "")
SMS_BACKEND = os.environ.get(
    "SMS_BACKEND",
    "walkandtalk.sms.NotifyBackend"
    if NOTIFY_API_KEY
    else "walkandtalk.sms.FileBackend"
    if SMS_FILE_PATH
    else "",
)
# Where women write to the scheme: privacy requests, other formats, adjustments. Public pages.
CONTACT_EMAIL = os.environ.get("CONTACT_EMAIL", "walkandtalk@example.org")

# The scheme's own rules.
WALK_MIN_OFFICERS = int(os.environ.get("WALK_MIN_OFFICERS", "2"))
# A walk its officers started and nobody has marked safe this many minutes after its planned
# end is overdue: its inspectors and its other officers are alerted (bookings/welfare.py).
WELFARE_CHECK_AFTER = timedelta(minutes=float(os.environ.get("WELFARE_CHECK_AFTER", "30")))
# How long a walk lasts, as "what to expect" says it when no group walk is coming up to measure.
WALK_TYPICAL_MINUTES = int(os.environ.get("WALK_TYPICAL_MINUTES", "60"))
PERSONAL_DATA_RETENTION_DAYS = int(os.environ.get("PERSONAL_DATA_RETENTION_DAYS", "90"))
# A partner's private link to a referral works this many days after it was sent; with no
# answer after PARTNER_REMINDER_DAYS the partner is reminded once and the inspector sees it
# overdue.
PARTNER_LINK_DAYS = int(os.environ.get("PARTNER_LINK_DAYS", "90"))
PARTNER_REMINDER_DAYS = int(os.environ.get("PARTNER_REMINDER_DAYS", "14"))
STAFF_OTP_REQUIRED = env_bool("STAFF_OTP_REQUIRED", not DEBUG)
EXIT_URL = os.environ.get("EXIT_URL", "https://www.bbc.co.uk/weather")

# The cache holds the rate-limit counters, so it must be shared by every web process: Redis
# when CACHE_URL names one, otherwise a table in the database (created by a migration).
CACHE_URL = os.environ.get("CACHE_URL", "")
# A Redis that does not answer within REDIS_TIMEOUT seconds is taken as down by this process
# for REDIS_COOLDOWN seconds (walkandtalk.breaker): a request pays that timeout once, not once
# per use, and every use falls back (the rate limiter lets requests by, pages are rendered
# afresh, the outbox row waits for the sweep).
REDIS_TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", "0.5"))
REDIS_COOLDOWN = float(os.environ.get("REDIS_COOLDOWN", "10"))
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "walkandtalk.cache.RedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT},
        }
    }
    if CACHE_URL.startswith("redis://"):  # plain TCP; TLS and sockets keep redis-py's own
        CACHES["default"]["OPTIONS"]["connection_class"] = "walkandtalk.breaker.GuardedConnection"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "walkandtalk_cache",
        }
    }
# Each web process keeps the public walk pages it rendered (website/pagecache.py); the shared
# cache above only holds the version that says whether they are still current.
CACHES["pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "public-walk-pages",
    "OPTIONS": {"MAX_ENTRIES": 500},
}
# POSTs to each public form per client IP: "count/seconds".
PUBLIC_FORM_RATE_LIMIT = os.environ.get("PUBLIC_FORM_RATE_LIMIT", "20/600")

# Celery: Redis in production; Kombu's filesystem transport for the embedded demo.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # A hung Redis must not hang a web worker: a publish gives up after REDIS_TIMEOUT and is
    # not retried (walkandtalk.celery.publish); the outbox keeps the row for the sweep.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_timeout": REDIS_TIMEOUT,
        "socket_connect_timeout": REDIS_TIMEOUT,
        "max_retries": 0,
        "visibility_timeout": 3600,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
# A task stuck on a database or mail server that stopped answering is ended, and its worker
# process replaced: a sweep stops claiming after 45 s, so two minutes is never a real one.
CELERY_TASK_SOFT_TIME_LIMIT = 110
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}
# The inspectors' digest at 7am London time, before the day's walks are planned: queued in the
# outbox (one per BCU per day), which sends it.
CELERY_BEAT_SCHEDULE["bookings-daily-digest"] = {
    "task": "bookings.tasks.send_daily_digest",
    "schedule": crontab(hour=7, minute=0),
}
# The outbox sweep, every minute: reminders come due, retries, rows whose publish was lost.
# A sweep not started within 50 s is dropped: the next one does the same work.
CELERY_BEAT_SCHEDULE["bookings-deliver-due-notifications"] = {
    "task": "bookings.tasks.deliver_due_notifications",
    "schedule": 60.0,
    "options": {"expires": 50},
}

# /readyz (walkandtalk/readiness.py) fails when the oldest due message has waited longer than
# READY_OUTBOX_MAX_AGE_MINUTES, or beat's sweep (every minute) has not run for
# READY_SWEEP_MAX_AGE_MINUTES.
READY_OUTBOX_MAX_AGE = timedelta(
    minutes=float(os.environ.get("READY_OUTBOX_MAX_AGE_MINUTES", "10"))
)
READY_SWEEP_MAX_AGE = timedelta(minutes=float(os.environ.get("READY_SWEEP_MAX_AGE_MINUTES", "5")))

# /metrics (walkandtalk/metrics.py) answers only `Authorization: Bearer <METRICS_TOKEN>`; unset,
# the page does not exist (404). Under gunicorn, gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR
# so that every worker's request counts are added up.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# Security. Everything here is on unless DEBUG; check --deploy is clean in production.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_FAILURE_VIEW = "walkandtalk.views.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = 0 if DEBUG else 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = False
# Preloading commits the whole domain to HTTPS in browsers' lists: the domain owner's call.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "walkandtalk.logs.ScrubFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "walkandtalk.logs.JSONFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json"),
            "filters": ["scrub"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # runserver's request lines hold paths: through the scrubbing handler too.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- Security and privacy (issue 8) ---------------------------------------------------------
# Cookies only this host can set or read, never sent over plain HTTP. (The test client and
# Chromium on http://localhost accept Secure cookies; the demo on DEBUG keeps plain names.)
if not DEBUG:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
# The form-protection cookie ends when the browser closes (Django's default keeps it a year):
# nothing of this site stays on a shared phone or computer, the exit control's aim too.
CSRF_COOKIE_AGE = None
# Short sessions: staff sign in again after a few hours and whenever the browser is closed.
# (The public pages keep what was just done in a signed cookie of their own, for 30 minutes.)
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_HOURS", "4")) * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# How many proxies in front of the app append to X-Forwarded-For (a load balancer: 1). 0 trusts
# no forwarded header: the client is REMOTE_ADDR. walkandtalk.security.client_ip reads it, for
# the rate limiter and django-axes alike.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Staff sign in with a password, then a code from an authenticator app (django-otp, TOTP) on
# every staff page when STAFF_OTP_REQUIRED (walkandtalk.security.StaffTwoFactorMiddleware).
OTP_TOTP_ISSUER = "Met Walk and Talk"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # superusers can reset a device, never read its secret

# django-axes: repeated wrong passwords for one username from one address lock that pair out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "walkandtalk.security.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "walkandtalk.security.lockout_response"
AXES_ALLOWED_CORS_ORIGINS = SITE_URL
# Failures and lockouts are logged (axes.handlers, WARNING); its start-up banner is not.
LOGGING["loggers"]["axes.apps"] = {"level": "WARNING"}

# Content Security Policy (django-csp 4): nothing from other sites, no inline script or style;
# a script that must be inline carries the request's nonce ({{ request.csp_nonce }}). On DEBUG
# it only reports (Django's debug pages are inline), so developers still see every violation.
_csp = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        # Bootstrap draws its check marks and select arrows as data: SVGs.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
if DEBUG:
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp
else:
    CONTENT_SECURITY_POLICY = _csp

# Audit (django-simple-history): who changed which walk, roster, concern and action. History
# is read, never reverted: every change goes through the services.
SIMPLE_HISTORY_REVERT_DISABLED = True

# Retention: personal data past PERSONAL_DATA_RETENTION_DAYS is anonymised once a day.
CELERY_BEAT_SCHEDULE["concerns-purge-personal-data"] = {
    "task": "privacy.tasks.purge_personal_data",
    "schedule": crontab(hour=3, minute=30),
}

# Error reporting: to Sentry when SENTRY_DSN is set (the web here; the worker and beat in
# walkandtalk/celery.py), scrubbed of personal data and token paths (walkandtalk/errors.py).
# Nothing is initialised, and nothing sent, when it is unset.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = os.environ.get("SENTRY_ENVIRONMENT", "")
if SENTRY_DSN:
    from walkandtalk import errors

    errors.start(SENTRY_DSN, SENTRY_ENVIRONMENT)
