"""knowledge API."""
