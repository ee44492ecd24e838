from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from bizreg.accounts import exports, selectors
from bizreg.accounts.forms import LoginForm, UserFilterForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        context["idle_minutes"] = settings.SESSION_IDLE_MINUTES
        return context


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("core:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("密码已修改。"))
        return response


def locked_out(request, original_response=None, credentials=None):
    """django-axes lockout response (AXES_LOCKOUT_CALLABLE): the Chinese page, HTTP 429."""
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = round(cooloff * 60) if isinstance(cooloff, int | float) else 30
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "accounts/locked_out.html", context, status=429)


def _filter_form(request):
    form = UserFilterForm(request.GET or None, viewer=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, filters


@login_required
@permission_required("accounts.view_user", raise_exception=True)
def user_list(request):
    form, filters = _filter_form(request)
    page = selectors.user_page(viewer=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/user_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "roles": selectors.role_catalogue()},
    )


@login_required
@permission_required("accounts.view_user", raise_exception=True)
def user_detail(request, pk: int):
    target = selectors.user_for(viewer=request.user, pk=pk)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "target": target,
            "roles": selectors.roles_of(target),
            "history": selectors.user_history(viewer=request.user, user=target),
        },
    )


@login_required
@permission_required("accounts.view_user", raise_exception=True)
def user_export(request):
    form, filters = _filter_form(request)
    users = selectors.user_search(viewer=request.user, filters=filters)
    content = exports.users_workbook(users)
    filename = f"用户与角色_{timezone.localdate():%Y%m%d}.xlsx"
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
