from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render

from bizreg.enterprises import selectors


@login_required
@permission_required("enterprises.view_enterprise", raise_exception=True)
def enterprise_list(request):
    page = selectors.enterprise_page(user=request.user, params=request.GET)
    return render(request, "enterprises/list.html", {"page": page})
