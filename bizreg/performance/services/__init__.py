"""Writes, split by area (budget, indicators, monitoring, reports); import from the area module."""
