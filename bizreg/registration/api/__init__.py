"""Split by area (cases, documents, licences, mail, records, imports); import from the area module."""

# Importing an area module registers its viewsets on bizreg.core.api_router.router.
from bizreg.registration.api import (  # noqa: E402,F401 — helper "docs"
    cases,  # noqa: E402,F401 — helper "cases"
    documents,
    licences,
    mail,
    records,  # noqa: E402,F401 — helper "records"
)
