"""budget API (being written)."""
