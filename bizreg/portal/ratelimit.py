"""Per-address rate limits of the public pages, counted in the shared cache (settings.CACHES).

The cache is a database table (or Redis), never process memory, so a limit holds across gunicorn
workers and nodes. Each allowed request claims one of `limit` slot keys with `cache.add`, which is atomic
in both backends (an INSERT under a unique key, SET NX); a slot frees itself `window` seconds after it
was claimed. That is a sliding window: at most `limit` requests in any `window` seconds, and two
workers can never both count the same slot.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class Rate:
    limit: int
    window: int  # seconds


def rate_from_settings(name: str, default: tuple[int, int]) -> Rate:
    limit, window = getattr(settings, name, default)
    return Rate(limit=int(limit), window=int(window))


def client_ip(request: HttpRequest) -> str:
    """The visitor's address. Behind N trusted proxies (settings.TRUSTED_PROXY_COUNT) it is the Nth
    address from the right of X-Forwarded-For; addresses further left were written by the client."""
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _base_key(scope: str, ident: str) -> str:
    # Addresses are personal data: the cache holds a keyed hash, not the address.
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{scope}:{ident}".encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


def allow(*, scope: str, ident: str, rate: Rate) -> bool:
    """Count one request of `ident` under `scope`; False when it is over the limit (nothing is counted)."""
    base = _base_key(scope, ident)
    keys = [f"{base}:{slot}" for slot in range(rate.limit)]
    taken = cache.get_many(keys)
    # any() stops at the first slot claimed: one request counts once.
    return any(key not in taken and cache.add(key, 1, timeout=rate.window) for key in keys)


def exhausted(*, scope: str, ident: str, rate: Rate) -> bool:
    """True when every slot of `ident` under `scope` is taken (looks without counting): the portal's
    wrong-try counters check this first and count a wrong try with `allow`."""
    base = _base_key(scope, ident)
    keys = [f"{base}:{slot}" for slot in range(rate.limit)]
    return len(cache.get_many(keys)) >= len(keys)


def allow_request(request: HttpRequest, *, scope: str, rate: Rate) -> bool:
    return allow(scope=scope, ident=client_ip(request), rate=rate)
