"""calls API."""
