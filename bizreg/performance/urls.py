"""Each area module in views/ declares its own `urlpatterns`; they are joined here under one namespace."""

from bizreg.performance.views import budget, indicators, monitoring, reports

app_name = "performance"

urlpatterns: list = [
    *budget.urlpatterns,
    *indicators.urlpatterns,
    *monitoring.urlpatterns,
    *reports.urlpatterns,
]
