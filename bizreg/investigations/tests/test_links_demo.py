"""The demo's identity-misuse ring is visible in the link graph from any one of its victims."""

from __future__ import annotations

import io

import pytest

from bizreg.core.demo import DemoContext
from bizreg.enterprises import demo
from bizreg.enterprises.models import Enterprise
from bizreg.investigations.selectors.links import link_graph, ring_summary

pytestmark = pytest.mark.django_db


def test_demo_ring_found_from_a_victim(authority, django_user_model):
    django_user_model.objects.create_superuser("admin", password="x")
    demo.ensure_ftz_rules(authority=authority)
    ctx = DemoContext(authority=authority, year=2023, scale=0.01, stdout=io.StringIO())
    demo.load_register(ctx, count=200)
    demo.load_person_roles(ctx)
    demo.seed_identity_ring(ctx)
    ring = demo.identity_misuse_ring(2023)
    ring_ids = set(Enterprise.objects.filter(uscc__in=ring.usccs).values_list("pk", flat=True))

    graph = link_graph(id_number=ring.victim_id_numbers[5], depth=3)
    found = {n.detail["enterprise_id"] for n in graph.nodes_of("enterprise")}
    assert ring_ids <= found
    texts = [g.text for g in ring_summary(graph)]
    assert "12 家企业共用同一代理人电话" in texts
    assert "12 家企业由同一委托代理人办理登记" in texts
