"""Production settings: refuse unsafe defaults, pass `check --deploy`, pick storage and broker from env.

Settings are read once per process, so each case starts a fresh Python with its own environment.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[3]
LONG_SECRET = secrets.token_urlsafe(64)


def _run(args: list[str], tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"DJANGO_ENV", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "STORAGE_BACKEND", "CELERY_BROKER_URL"}
        and k != "DJANGO_ALLOW_ASYNC_UNSAFE"  # set by conftest for Playwright; never in a deployment
    }
    environment.update({"BIZREG_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "config.settings"})
    environment.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=120
    )


def _setup(tmp_path, **env) -> subprocess.CompletedProcess:
    return _run(["-c", "import django; django.setup()"], tmp_path, **env)


def test_production_refuses_debug(tmp_path):
    result = _setup(tmp_path, DJANGO_ENV="production", DEBUG="1", SECRET_KEY=LONG_SECRET)
    assert result.returncode != 0
    assert "生产环境（DJANGO_ENV=production）禁止开启 DEBUG" in result.stderr


def test_production_refuses_the_default_secret(tmp_path):
    result = _setup(tmp_path, DJANGO_ENV="production")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "至少 50 个字符" in result.stderr


def test_production_refuses_a_short_secret(tmp_path):
    result = _setup(tmp_path, DJANGO_ENV="production", SECRET_KEY="too-short-secret")
    assert result.returncode != 0
    assert "至少 50 个字符" in result.stderr


def test_production_starts_with_a_proper_secret(tmp_path):
    result = _setup(
        tmp_path, DJANGO_ENV="production", SECRET_KEY=LONG_SECRET, ALLOWED_HOSTS="bizreg.example.gov.cn"
    )
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_in_production(tmp_path):
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        DJANGO_ENV="production",
        SECRET_KEY=LONG_SECRET,
        ALLOWED_HOSTS="bizreg.example.gov.cn",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_development_settings(tmp_path):
    # The same check fails on the development defaults, so the clean result above means something.
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, DEBUG="1")
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr  # DEBUG on


PRINT_STORAGE = (
    "import django; django.setup();"
    "from django.core.files.storage import default_storage as s, storages;"
    "b = storages['default'];"
    "print(type(b).__module__ + '.' + type(b).__name__);"
    "print(getattr(b, 'bucket_name', ''), getattr(b, 'endpoint_url', ''), getattr(b, 'default_acl', ''))"
)


def test_s3_storage_selected_from_env(tmp_path):
    result = _run(
        ["-c", PRINT_STORAGE],
        tmp_path,
        STORAGE_BACKEND="s3",
        AWS_STORAGE_BUCKET_NAME="bizreg-files",
        AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[0] == "storages.backends.s3.S3Storage"
    assert lines[1] == "bizreg-files http://127.0.0.1:9000 private"


def test_local_storage_by_default(tmp_path):
    result = _run(["-c", PRINT_STORAGE], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("django.core.files.storage.filesystem.FileSystemStorage")


PRINT_BROKER = (
    "import django; django.setup(); from config.celery import app;"
    "print(app.conf.broker_url); print(app.conf.broker_transport_options.get('data_folder_in', ''))"
)


def test_celery_defaults_to_the_filesystem_broker_under_var(tmp_path):
    result = _run(["-c", PRINT_BROKER], tmp_path)
    assert result.returncode == 0, result.stderr
    broker, folder = result.stdout.split("\n")[:2]
    assert broker == "filesystem://"
    assert Path(folder) == tmp_path / "var" / "celery" / "queue"
    assert Path(folder).is_dir()


def test_an_empty_broker_variable_means_the_default(tmp_path):
    result = _run(["-c", PRINT_BROKER], tmp_path, CELERY_BROKER_URL="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "filesystem://"


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/3", "redis://:s3cret@redis.internal:6379/0"])
def test_celery_broker_from_env(tmp_path, url):
    result = _run(["-c", PRINT_BROKER], tmp_path, CELERY_BROKER_URL=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == url


SERVE_STATIC = """
import re, django
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("collectstatic", "--noinput", verbosity=0)
client = Client(HTTP_X_FORWARDED_PROTO="https", SERVER_NAME="bizreg.example.gov.cn")
page = client.get("/accounts/login/", HTTP_HOST="bizreg.example.gov.cn")
print(page.status_code)
hashed = r'href="(/static/vendor/bootstrap/bootstrap\\.min\\.[0-9a-f]{12}\\.css)"'
css = re.search(hashed, page.content.decode()).group(1)
asset = client.get(css, HTTP_HOST="bizreg.example.gov.cn")
print(asset.status_code, asset.get("Cache-Control", ""))
print(b"Bootstrap" in b"".join(asset.streaming_content)[:200])
"""


def test_production_serves_hashed_static_files_without_debug(tmp_path):
    # DEBUG off, manifest storage: collectstatic must post-process every vendored file, and whitenoise
    # must serve the hashed names the templates link to, with long caching.
    result = _run(
        ["-c", SERVE_STATIC],
        tmp_path,
        DJANGO_ENV="production",
        SECRET_KEY=LONG_SECRET,
        ALLOWED_HOSTS="bizreg.example.gov.cn",
        STATIC_ROOT=str(tmp_path / "static"),
    )
    assert result.returncode == 0, result.stderr
    status, asset, content = result.stdout.split("\n")[:3]
    assert status == "200"
    assert asset.startswith("200") and "max-age=315360000" in asset
    assert content == "True"
