"""Preliminary assessment (研判): the link graph around a person — every enterprise and case they appear in,
and whatever shares an ID, phone, address or agent with them — drawn with ECharts so a staff member can
click through it.

IDs never travel in URLs or pages: a case's victim is found by the case, a typed ID is POSTed, and a person
node of the graph (a keyed hash) is re-centred through the session, which remembers the ID numbers behind
the person nodes of the last graph the user saw."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from bizreg.core import services as core_services
from bizreg.core.models import AccessLog
from bizreg.investigations.forms import LinkSearchForm
from bizreg.investigations.selectors import cases as selectors
from bizreg.investigations.selectors.links import link_graph, ring_summary
from bizreg.investigations.views.common import investigation_page


def _graph_page(request, *, id_number: str, depth: int, case=None, form=None):
    try:
        graph = link_graph(id_number=id_number, depth=depth)
    except ValidationError as exc:
        form = form or LinkSearchForm(initial={"depth": depth})
        form.add_error("id_number" if "id_number" in form.fields else None, "；".join(exc.messages))
        return render(request, "investigations/links.html", {"form": form, "case": case}, status=400)
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.VIEW,
        object_type="investigations.LinkGraph",
        object_id=case.pk if case else "search",
        object_label=f"关联分析 {case.number if case else ''}".strip(),
        fields="关联人员、企业、电话、住所",
        authority=case.authority if case else None,
        request=request,
    )
    data = graph.as_json()
    names = {node["id"]: node["name"] for node in data["nodes"]}
    persons = {}
    for node in data["nodes"]:
        node["root"] = node["depth"] == 0
        if node["kind"] == "enterprise" and node.get("enterprise_id"):
            node["url"] = reverse("enterprises:detail", args=[node["enterprise_id"]])
        elif node["kind"] == "person" and not node["root"]:
            persons[node["id"]] = graph.id_number_of(node["id"])
            node["url"] = f"{reverse('investigations:links_search')}?node={node['id']}&depth={depth}"
    request.session[SESSION_KEY] = persons
    rings = ring_summary(graph)
    flagged = {f"e:{pk}" for ring in rings for pk in ring.enterprise_ids}
    for node in data["nodes"]:
        node["flagged"] = node["id"] in flagged
    return render(
        request,
        "investigations/links.html",
        {
            "form": form or LinkSearchForm(initial={"depth": depth}),
            "case": case,
            "graph": graph,
            "graph_data": data,
            "edge_rows": [
                (names.get(e["source"], ""), e["label"], names.get(e["target"], "")) for e in data["links"]
            ],
            "rings": rings,
            "depth": depth,
        },
    )


SESSION_KEY = "investigations.link_persons"


def _depth(raw) -> int:
    try:
        return min(3, max(1, int(raw)))
    except (TypeError, ValueError):
        return 2


@investigation_page
@require_http_methods(["GET", "POST"])
def links_search(request):
    node = request.GET.get("node")
    if request.method == "GET" and node:
        id_number = request.session.get(SESSION_KEY, {}).get(node)
        if id_number:
            return _graph_page(request, id_number=id_number, depth=_depth(request.GET.get("depth")))
    form = LinkSearchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _graph_page(
            request,
            id_number=form.cleaned_data["id_number"].strip().upper(),
            depth=form.cleaned_data.get("depth") or 2,
            form=form,
        )
    status = 400 if request.method == "POST" else 200
    return render(request, "investigations/links.html", {"form": form}, status=status)


@investigation_page
@require_http_methods(["GET"])
def case_links(request, pk: int):
    case = selectors.case_for(user=request.user, pk=pk)
    return _graph_page(
        request, id_number=case.victim_id_number, depth=_depth(request.GET.get("depth")), case=case
    )


urlpatterns = [
    path("links/", links_search, name="links_search"),
    path("<int:pk>/links/", case_links, name="case_links"),
]
