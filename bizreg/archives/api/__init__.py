"""REST API of the archives app, split by area; importing an area module registers its viewsets on
bizreg.core.api_router.router (records: archive files and items; search; digitization; borrowing)."""

from bizreg.archives.api import borrowing, digitization, records, search  # noqa: F401
