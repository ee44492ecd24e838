"""The transition trail of an archives object, for its detail page."""

from __future__ import annotations

from django.db import models

from bizreg.archives.models import ArchiveEvent


def events_of(obj: models.Model) -> models.QuerySet[ArchiveEvent]:
    return ArchiveEvent.objects.filter(object_type=obj._meta.model_name, object_id=obj.pk).select_related(
        "actor"
    )
