"""Split by area; import from the area module."""
