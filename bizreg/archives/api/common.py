"""What every archives API module shares: permissions per action (the same Django permissions the HTML
views require), and the translation of the services' refusals into HTTP answers — a bad value 400 with the
field's Chinese message, a role that may not act 403, a step the object's state refuses 409 with the
reason; nothing is changed in any of those cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import BasePermission

from bizreg.core.statemachine import TransitionNotAllowed


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("当前状态不允许该操作。")
    default_code = "conflict"


class ActionPermissions(BasePermission):
    """All of the Django permissions the viewset names for the current action.

    A viewset declares `read_perms` (every action not listed) and `action_perms` {action: perms}. The
    object-level rules (own authority, own borrow request, controlled items) stay in the selectors and
    services, as for the pages.
    """

    message = _("您的角色无权执行该操作。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        perms = getattr(view, "action_perms", {}).get(view.action, getattr(view, "read_perms", ()))
        return user.has_perms(perms)


def as_drf_error(exc: DjangoValidationError) -> serializers.ValidationError:
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError({name: list(msgs) for name, msgs in exc.message_dict.items()})
    return serializers.ValidationError({"non_field_errors": exc.messages})


def call_service(func: Callable[..., Any], /, **kwargs) -> Any:
    """Run a service, turning its refusals into the API's answers."""
    try:
        return func(**kwargs)
    except TransitionNotAllowed as exc:
        raise Conflict(str(exc)) from None
    except DjangoValidationError as exc:
        raise as_drf_error(exc) from None
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc) or None) from None


def form_errors(form) -> serializers.ValidationError:
    """A filter form's errors as a 400 body {field: [messages]} (the messages are the form's, in Chinese)."""
    return serializers.ValidationError({name: list(errors) for name, errors in form.errors.items()})
