"""Split by area; importing an area module registers its viewsets on bizreg.core.api_router.router."""
