"""indicators API (being written)."""
