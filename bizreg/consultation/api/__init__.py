"""Split by area; importing an area module registers its viewsets on bizreg.core.api_router.router."""

from bizreg.consultation.api import calls, knowledge, tickets  # noqa: F401
