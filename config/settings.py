"""Settings for bizreg, read from the environment.

Every setting has an embedded default so `make run` needs no server process: SQLite in WAL mode under
`var/`, files on local disk, and Celery on kombu's filesystem transport. Production
(`DJANGO_ENV=production`) refuses to start on those development defaults that would be unsafe.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BIZREG_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DJANGO_ENV = os.environ.get("DJANGO_ENV", "development")
IS_PRODUCTION = DJANGO_ENV == "production"

_DEV_SECRET_KEY = "bizreg-development-only-secret-key-never-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET_KEY)
DEBUG = os.environ.get("DEBUG", "0" if IS_PRODUCTION else "1") == "1"

if IS_PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("生产环境（DJANGO_ENV=production）禁止开启 DEBUG。")
    if SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("生产环境必须通过 SECRET_KEY 环境变量设置至少 50 个字符的随机密钥。")

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "simple_history",
    "axes",
    "bizreg.core",
    "bizreg.accounts",
    "bizreg.enterprises",
    "bizreg.registration",
    "bizreg.performance",
    "bizreg.consultation",
    "bizreg.archives",
    "bizreg.investigations",
    "bizreg.tracking",
    "bizreg.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "bizreg.core.middleware.ChosenLanguageMiddleware",  # Chinese unless chosen otherwise
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "bizreg.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
_SQLITE_PATH = VAR_DIR / "bizreg.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{_SQLITE_PATH}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE takes the write lock at BEGIN so
    # two writers queue on busy_timeout instead of failing with "database is locked" mid-transaction.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth and login security ------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Answers permission checks in one query; ModelBackend signs people in (sessions name it).
    "bizreg.accounts.backends.PermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.5"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The Chinese lockout page (HTTP 429) with the cool-off in minutes.
AXES_LOCKOUT_CALLABLE = "bizreg.accounts.views.locked_out"
AXES_VERBOSE = False

# Idle timeout: the cookie lives SESSION_IDLE_MINUTES past the last request, renewed on every request.
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True

# --- i18n -----------------------------------------------------------------------------------------
# Source strings are Simplified Chinese (the staff's language); English is a translation in locale/en.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # ISO dates first in forms, for <input type="date">
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Excel exports of more rows than this are made by a worker and downloaded from the job page by their
# submitter only, for EXPORT_KEEP_HOURS (bizreg.core.exports).
EXPORT_INLINE_MAX_ROWS = int(os.environ.get("EXPORT_INLINE_MAX_ROWS", 10_000))
EXPORT_KEEP_HOURS = int(os.environ.get("EXPORT_KEEP_HOURS", 24))
# Largest evidence file of an identity-misuse case (photos of a site visit, scanned documents).
INVESTIGATIONS_EVIDENCE_MAX_BYTES = int(os.environ.get("INVESTIGATIONS_EVIDENCE_MAX_BYTES", 20 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
MAX_IMPORT_FILE_BYTES = int(os.environ.get("MAX_IMPORT_FILE_BYTES", str(20 * 1024 * 1024)))

_STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "local")
if _STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("AWS_STORAGE_BUCKET_NAME", "bizreg"),
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL"),
            "region_name": os.environ.get("AWS_S3_REGION_NAME"),
            "access_key": os.environ.get("AWS_ACCESS_KEY_ID"),
            "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Cache -----------------------------------------------------------------------------------------
# Shared by every process: the public pages' per-address rate limits must hold across gunicorn workers
# and nodes. A database table by default (created by the portal app's migration), Redis with CACHE_URL.
_CACHE_URL = os.environ.get("CACHE_URL", "")
if _CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "bizreg_cache",
            "OPTIONS": {"MAX_ENTRIES": 100_000, "CULL_FREQUENCY": 4},
        }
    }

# --- Public portal -----------------------------------------------------------------------------------
# The address printed (as QR code) on notices for their public verification page.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
# Lookups allowed per visitor address: (requests, seconds).
PORTAL_VERIFY_RATE_LIMIT = (int(os.environ.get("PORTAL_VERIFY_RATE_LIMIT", "20")), 60)
# Reverse proxies in front of gunicorn whose X-Forwarded-For is trusted (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# --- Licence stock -----------------------------------------------------------------------------------
# Blank sheets of a kind below which the stock page and the clerk's home warn (a manager can set a level
# per authority and kind on the stock page).
LICENCE_REORDER_LEVEL = int(os.environ.get("LICENCE_REORDER_LEVEL", "200"))

# --- Archives: the scan inbox ---------------------------------------------------------------------------
# One sub-folder per digitization batch, taken when it holds the marker file READY (docs/archives.md).
ARCHIVES_WATCH_DIR = Path(os.environ.get("ARCHIVES_WATCH_DIR") or VAR_DIR / "scan-inbox")
# Start image processing/OCR of a batch as soon as its folder is taken.
ARCHIVES_WATCH_AUTOSTART = os.environ.get("ARCHIVES_WATCH_AUTOSTART", "1") == "1"

# --- Celery ------------------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    (_queue_dir).mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        # The exchange tables would otherwise land in ./control of whatever directory the process runs in.
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "0") == "1"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Periodic work, run by the worker's embedded beat (scripts/serve) or a separate `celery beat` (deploy.md).
# The indicators' snapshot of the month so far, each night; on the 1st it closes the month just ended.
CELERY_BEAT_SCHEDULE = {
    "performance-monthly-snapshots": {
        "task": "performance.monthly_snapshots",
        "schedule": crontab(hour=1, minute=30),
    },
    "consultation-poll-mailbox": {"task": "consultation.poll_mailbox", "schedule": 60.0},
    "consultation-escalate-tickets": {"task": "consultation.escalate_tickets", "schedule": 300.0},
    "consultation-notify-stale-articles": {
        "task": "consultation.notify_stale_articles",
        "schedule": crontab(hour=7, minute=0),
    },
    "archives-remind-overdue-borrows": {
        "task": "archives.remind_overdue_borrows",
        "schedule": crontab(hour=8, minute=0),
    },
    # Re-hash every stored archive file (DA/T 70 integrity) at night, when the disks are quiet.
    "archives-fixity-check": {"task": "archives.fixity_check", "schedule": crontab(hour=2, minute=30)},
    # Take the folders of scans the digitization contractor marked READY in the scan inbox.
    "archives-watch-scan-folder": {"task": "archives.watch_scan_folder", "schedule": 60.0},
    # Identity-misuse cases: reminders before each deadline, before the working day starts.
    "investigations-deadline-reminders": {
        "task": "investigations.deadline_reminders",
        "schedule": crontab(hour=7, minute=30),
    },
    # Tracking: new visit plans from the register, the move-out watch list and the migrations of the day
    # before, then the overdue-appeal alerts.
    "tracking-daily": {"task": "tracking.daily", "schedule": crontab(hour=6, minute=45)},
    "tracking-overdue-appeals": {"task": "tracking.overdue_appeals", "schedule": crontab(hour=8, minute=15)},
    # Background jobs whose worker died or whose queue message was lost (Redis keeps nothing on disk).
    "core-recover-stalled-jobs": {"task": "core.recover_stalled_jobs", "schedule": 300.0},
    # Export files made in the background are kept for EXPORT_KEEP_HOURS, then deleted.
    "core-purge-expired-outputs": {"task": "core.purge_expired_outputs", "schedule": 3600.0},
}
(VAR_DIR / "celery").mkdir(parents=True, exist_ok=True)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- REST API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["bizreg.core.api.ModelPermissionsWithView"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "1200/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "bizreg API",
    "DESCRIPTION": "商事登记运行与绩效平台接口",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "kind" field with different choices: name each enum after its own set.
    "ENUM_NAME_OVERRIDES": {
        "LicenceKindEnum": "bizreg.registration.models.LicenceKind",
        "NoticeKindEnum": "bizreg.registration.models.NoticeKind",
        "ServiceRecordKindEnum": "bizreg.registration.models.ServiceRecord.Kind",
        "ProjectStatusEnum": "bizreg.performance.models.ProjectStatus",
        "AdjustmentStatusEnum": "bizreg.performance.models.AdjustmentStatus",
        "ReportStatusEnum": "bizreg.performance.models.ReportStatus",
        "CaseStateEnum": "bizreg.registration.models.CaseState",
        "AppealStateEnum": "bizreg.tracking.models.AppealState",
        "CaseChannelEnum": "bizreg.registration.models.Channel",
        "TicketChannelEnum": "bizreg.consultation.models.TicketChannel",
        "TicketKindEnum": "bizreg.consultation.models.TicketKind",
        "TicketStateEnum": "bizreg.consultation.models.TicketState",
        "ArticleVersionStateEnum": "bizreg.consultation.models.ArticleVersionState",
        "ArchiveStatusEnum": "bizreg.archives.models.ArchiveStatus",
        "ArchiveItemSourceEnum": "bizreg.archives.models.ItemSource",
        "SourceEnum": "bizreg.consultation.models.CallSource",  # its name before archives had a "source"
        "DigitizationBatchStateEnum": "bizreg.archives.models.BatchState",
        "BorrowStateEnum": "bizreg.archives.models.BorrowState",
        "BorrowKindEnum": "bizreg.archives.models.BorrowKind",
        "InvestigationCaseStateEnum": "bizreg.investigations.models.CaseState",
        "ReportSourceEnum": "bizreg.investigations.models.ReportSource",
    },
}

# --- Security (production) -------------------------------------------------------------------------
if IS_PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
CSRF_FAILURE_VIEW = "bizreg.core.views.csrf_failure"
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "jieba": {"level": "WARNING"},
    },
}

# Demo/tenant defaults
DEFAULT_AUTHORITY_CODE = os.environ.get("DEFAULT_AUTHORITY_CODE", "440115")
