"""Staff pages under /tracking/. Each area (views/<area>.py) declares its own `urlpatterns`."""

from bizreg.tracking.views import appeals, issues, migrations, plans, reports, visits

app_name = "tracking"

urlpatterns = (
    plans.urlpatterns
    + visits.urlpatterns
    + appeals.urlpatterns
    + migrations.urlpatterns
    + issues.urlpatterns
    + reports.urlpatterns
)
