"""The link graph around one person, on a real database: a ring of false registrations is found."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bizreg.core.identifiers import build_resident_id, build_uscc
from bizreg.enterprises import services
from bizreg.enterprises.models import Street
from bizreg.investigations.selectors.links import link_graph, ring_summary
from bizreg.registration.models import RegistrationCase

pytestmark = pytest.mark.django_db

AGENT_ID = build_resident_id("440115", dt.date(1979, 4, 5), 771)
AGENT_PHONE = "13922220000"
VICTIMS = [build_resident_id("440106", dt.date(1960 + n, 1 + n % 12, 10 + n), 300 + n) for n in range(12)]
RING_ADDRESSES = [
    "广州市南沙区进港大道８８号１２０１房",
    "广州市南沙区 海滨路 171 号 11 楼",
    "广州市南沙区丰泽东路106号（自编1号楼）X1301",
]
UNRELATED = build_resident_id("440103", dt.date(1985, 6, 6), 123)
NOBODY = build_resident_id("440104", dt.date(1991, 3, 3), 555)


@pytest.fixture
def ring(authority, role_users):
    """12 enterprises through one agent (same ID and phone as liaison) at 3 addresses, spelled two ways,
    each with a different victim as legal representative; plus an unrelated enterprise."""
    clerk = role_users["registration_clerk"]
    street = Street.objects.get(code="440115003")
    enterprises = []
    for n, victim in enumerate(VICTIMS):
        address = RING_ADDRESSES[n % 3]
        if n >= 6:  # the same places written differently: found by the address key
            address = address.replace(" ", "").replace("８８", "88")
        enterprise = services.enterprise_create(
            actor=clerk,
            authority=authority,
            uscc=build_uscc("440115", f"{30_000_000 + n:08d}"),
            name=f"广州南沙环宇{n}号贸易有限公司",
            entity_type="llc",
            legal_rep_name=f"受害人{n}",
            legal_rep_id_number=victim,
            established_on=dt.date(2023, 3, 1) + dt.timedelta(days=9 * n),
            industry="F",
            address=address,
            street=street,
        )
        for role in ("agent", "liaison"):
            services.enterprise_person_add(
                enterprise=enterprise,
                actor=clerk,
                role=role,
                name="黄代办",
                id_number=AGENT_ID,
                phone=AGENT_PHONE,
                started_on=enterprise.established_on,
            )
        enterprises.append(enterprise)
    unrelated = services.enterprise_create(
        actor=clerk,
        authority=authority,
        uscc=build_uscc("440115", "39999999"),
        name="广州南沙正常经营有限公司",
        entity_type="llc",
        legal_rep_name="陈正常",
        legal_rep_id_number=UNRELATED,
        established_on=dt.date(2022, 1, 1),
        industry="F",
        address="广州市南沙区黄阁大道中1号",
        street=street,
    )
    return {"enterprises": enterprises, "unrelated": unrelated}


def enterprise_ids(graph) -> set[int]:
    return {n.detail["enterprise_id"] for n in graph.nodes_of("enterprise")}


def test_ring_is_found_from_one_victim(ring):
    graph = link_graph(id_number=VICTIMS[0], depth=3)
    assert enterprise_ids(graph) == {e.pk for e in ring["enterprises"]}
    assert ring["unrelated"].pk not in enterprise_ids(graph)
    assert not graph.truncated
    start = graph.node(graph.start)
    assert start.kind == "person" and start.depth == 0 and graph.id_number_of(graph.start) == VICTIMS[0]
    summary = ring_summary(graph)
    assert [g.size for g in summary[:2]] == [12, 12]
    texts = {g.text for g in summary}
    assert "12 家企业由同一委托代理人办理登记" in texts
    assert "12 家企业共用同一代理人电话" in texts
    assert sorted(g.size for g in summary if g.kind == "address") == [4, 4, 4]


def test_from_the_agent_one_hop_reaches_every_ring_enterprise(ring):
    graph = link_graph(id_number=AGENT_ID, depth=1)
    assert enterprise_ids(graph) == {e.pk for e in ring["enterprises"]}
    labels = {e.label for e in graph.edges}
    assert {"委托代理人", "联络员", "同一电话", "同一住所"} <= labels
    assert len(graph.nodes_of("address")) == 3  # two spellings of each place are one node


def test_depth_limits_the_walk(ring):
    graph = link_graph(id_number=VICTIMS[0], depth=1)
    assert enterprise_ids(graph) == {ring["enterprises"][0].pk}
    assert len(graph.nodes_of("person")) == 1
    graph2 = link_graph(id_number=VICTIMS[0], depth=2)
    # hop 2: the enterprise's agent, and the enterprises at the same address
    assert {ring["enterprises"][n].pk for n in (0, 3, 6, 9)} <= enterprise_ids(graph2)
    assert any(n.label.startswith("黄代办") for n in graph2.nodes_of("person"))


def test_max_nodes_caps_the_graph(ring):
    graph = link_graph(id_number=AGENT_ID, depth=3, max_nodes=10)
    assert len(graph.nodes) == 10
    assert graph.truncated
    ids = {n.id for n in graph.nodes}
    assert all(e.source in ids and e.target in ids for e in graph.edges)


def test_queries_per_hop_do_not_grow_with_the_graph(ring, django_assert_max_num_queries):
    # ≤ 7 set-based queries per hop (person-roles by 4 keys, cases, enterprises by id and address)
    with django_assert_max_num_queries(3 * 7):
        graph = link_graph(id_number=VICTIMS[0], depth=3)
    assert len(graph.nodes) > 20  # 12 enterprises, the agent, the phone, 3 addresses, 4 victims


def test_unknown_person_gives_an_empty_graph(ring):
    graph = link_graph(id_number=NOBODY)
    assert graph.is_empty and graph.start is None and graph.edges == []
    assert ring_summary(graph) == []
    assert graph.as_json()["nodes"] == []


@pytest.mark.parametrize(
    "number, words",
    [("440115198001011234", "校验码"), ("12345", "18 位"), ("", "请填写")],
)
def test_invalid_id_number_is_refused_in_chinese(number, words):
    with pytest.raises(ValidationError) as exc:
        link_graph(id_number=number)
    assert words in exc.value.messages[0]


@pytest.mark.parametrize("depth, max_nodes", [(0, 300), (5, 300), (2, 0), (2, 5000), ("x", 300)])
def test_bounds_are_checked(depth, max_nodes):
    with pytest.raises(ValidationError) as exc:
        link_graph(id_number=VICTIMS[0], depth=depth, max_nodes=max_nodes)
    assert "应" in exc.value.messages[0]


def test_json_for_echarts_carries_no_full_identifiers(ring):
    graph = link_graph(id_number=VICTIMS[0], depth=3)
    data = graph.as_json()
    text = json.dumps(data, ensure_ascii=False)
    assert VICTIMS[0] not in text and AGENT_ID not in text and AGENT_PHONE not in text
    assert VICTIMS[0][:4] + "**********" + VICTIMS[0][-4:] in text
    assert [c["name"] for c in data["categories"]] == ["人员", "企业", "电话", "住所", "登记业务"]
    node = data["nodes"][0]
    assert {"id", "name", "kind", "label", "category"} <= set(node)
    assert {"source", "target", "label"} <= set(data["links"][0])


def test_registration_cases_link_applicants_and_agents(ring, authority):
    # A case not yet tied to an enterprise: the person is its agent, with the ring's phone.
    stranger = build_resident_id("440111", dt.date(1970, 8, 8), 888)
    RegistrationCase.objects.create(
        authority=authority,
        number="440115-20231101-0001",
        case_type="establishment",
        channel="window",
        enterprise_name="广州南沙新环宇贸易有限公司",
        applicant_name="陌生人",
        applicant_id_number=stranger,
        applicant_phone="13500000000",
        agent_name="黄代办",
        agent_id_number=AGENT_ID,
        agent_phone=AGENT_PHONE,
        received_at=timezone.now(),
    )
    graph = link_graph(id_number=stranger, depth=2)
    (case,) = graph.nodes_of("case")
    assert "广州南沙新环宇贸易有限公司" in case.label
    assert any(e.label.startswith("申请人（设立") for e in graph.edges)
    # hop 2: the agent of the case leads into the ring
    assert len(enterprise_ids(graph)) == 12
