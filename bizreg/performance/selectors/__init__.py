"""Split by area (budget, indicators, measurements, monitoring, reports); import from the area module."""
