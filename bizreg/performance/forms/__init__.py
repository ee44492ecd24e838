"""Forms, split by area (budget, indicators, reports)."""
