"""The product's settings with the write-floor view of bench/intake_floor.py added (benchmark server only)."""

from config.settings import *  # noqa: F403 — the product's settings, unchanged but for the URLconf

ROOT_URLCONF = "bench.intake_floor"
