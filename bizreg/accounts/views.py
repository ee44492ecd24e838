from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render

from bizreg.accounts import selectors


@login_required
@permission_required("accounts.view_user", raise_exception=True)
def user_list(request):
    page = selectors.user_page(viewer=request.user, params=request.GET)
    return render(request, "accounts/user_list.html", {"page": page, "params": request.GET})
