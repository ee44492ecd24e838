"""Pages, split by area (budget, indicators, monitoring, reports)."""
