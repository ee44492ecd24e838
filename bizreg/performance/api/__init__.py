"""Split by area; importing an area module registers its viewsets on bizreg.core.api_router.router."""

from bizreg.performance.api import budget, indicators  # noqa: F401
