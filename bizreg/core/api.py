"""API building blocks shared by every app."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import DjangoModelPermissions
from rest_framework.response import Response

from bizreg.core.models import AccessLog
from bizreg.core.services import access_log_record


class ModelPermissionsWithView(DjangoModelPermissions):
    """DjangoModelPermissions that also requires the model's view permission to read."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


FULL_PERSONAL_DATA_PERM = "core.view_full_personal_data"


class FullPersonalDataMixin:
    """`?full_id=1` on a GET returns full personal identifiers instead of masked ones.

    Only holders of core.view_full_personal_data may ask (403 otherwise), and every such response is
    written to the access log. The serializer reads `context["full_id"]` to decide what to mask. A viewset
    sets `personal_data_object_type` and `personal_data_fields`, and may override `personal_data_label`.
    """

    personal_data_object_type: str = ""
    personal_data_fields: str = ""
    personal_data_denied_message = _("您没有查看完整个人身份信息的权限。")

    def personal_data_label(self, obj) -> str:
        return str(obj)

    def wants_full_personal_data(self) -> bool:
        if self.request.query_params.get("full_id") != "1" or self.request.method != "GET":
            return False
        if not self.request.user.has_perm(FULL_PERSONAL_DATA_PERM):
            raise exceptions.PermissionDenied(self.personal_data_denied_message)
        return True

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request is not None and not getattr(self, "swagger_fake_view", False):
            context["full_id"] = self.wants_full_personal_data()
        return context

    def log_full_personal_data(self, objects: list, *, single: bool) -> None:
        if not objects:
            return
        first = objects[0]
        access_log_record(
            user=self.request.user,
            action=AccessLog.Action.API,
            object_type=self.personal_data_object_type,
            object_id=first.pk if single else "list",
            object_label=self.personal_data_label(first)
            if single
            else _("接口列表（%(count)d 条）") % {"count": len(objects)},
            fields=self.personal_data_fields,
            record_count=len(objects),
            authority=first.authority if single else None,
            request=self.request,
        )

    def list(self, request, *args, **kwargs):
        full = self.wants_full_personal_data()
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page) if page is not None else list(queryset)
        data = self.get_serializer(rows, many=True).data
        if full:
            self.log_full_personal_data(rows, single=False)
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        full = self.wants_full_personal_data()
        instance = self.get_object()
        data = self.get_serializer(instance).data
        if full:
            self.log_full_personal_data([instance], single=True)
        return Response(data)


class CappedCountPagination(PageNumberPagination):
    """Page numbers with a count that stops at the paginator's cap (then `count_capped` is true).

    A subclass names its capped paginator (one with `count_is_capped`) and page size.
    """

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_capped": self.page.paginator.count_is_capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count_capped"] = {"type": "boolean", "example": False}
        return response
