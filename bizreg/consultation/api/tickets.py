"""tickets API."""
