"""Split by area (cases, documents, licences, mail, records, imports); import from the area module."""
