"""The link graph around one person (研判): every enterprise and case they appear in, and who and what
those share — the same ID, phone, address or agent — so rings of false registrations show at a glance.

Breadth-first from the person. One hop goes from a person or enterprise to another one, either directly
(a person-role of the register; an applicant/agent of a registration case) or through a shared phone or
address. Phone and address nodes are the places where hops meet, not hops of their own: an enterprise
found at hop 1 brings its address node along, and the other enterprises at that address are hop 2.

Each hop is a handful of set-based queries (person-roles by ID number / enterprise / phone / address key,
cases by ID number / phone, enterprises by id / address key), never one query per node; the graph stops
growing at `max_nodes` (the result says it was cut short). Reads go through the enterprises' and
registration's selectors only.

Identifiers never leave the server in the clear: node ids of persons, phones and addresses are keyed
hashes, labels carry the masked ID number / phone. The full ID number of a person node is kept on the
graph object (`id_number_of`) for the server, never in `as_json()`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from bizreg.core.identifiers import validate_resident_id
from bizreg.core.masking import mask_id_number, mask_phone
from bizreg.enterprises import selectors as register
from bizreg.enterprises.models import EnterpriseStatus, PersonRole
from bizreg.registration.selectors.people import cases_of_people

MAX_DEPTH = 4
MAX_NODES_LIMIT = 2000
# Rows one query may bring back, per node still allowed: a hub (a business-secretary address with
# thousands of enterprises) fills the graph without loading all its rows.
ROWS_PER_FREE_NODE = 4

PERSON, ENTERPRISE, PHONE, ADDRESS, CASE = "person", "enterprise", "phone", "address", "case"
CATEGORIES = (
    (PERSON, "人员"),
    (ENTERPRISE, "企业"),
    (PHONE, "电话"),
    (ADDRESS, "住所"),
    (CASE, "登记业务"),
)
CATEGORY_INDEX = {kind: n for n, (kind, _label) in enumerate(CATEGORIES)}
SAME_PHONE = "同一电话"
SAME_ADDRESS = "同一住所"
ROLE_LABELS = dict(PersonRole.choices)
STATUS_LABELS = dict(EnterpriseStatus.choices)
# Roles through which someone acts for the enterprise's registration: their phone is "the agent's phone".
AGENT_ROLES = {PersonRole.AGENT, PersonRole.LIAISON}


@dataclass
class GraphNode:
    id: str
    kind: str
    label: str
    depth: int
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.label,
            "kind": self.kind,
            "label": self.label,
            "category": CATEGORY_INDEX[self.kind],
            "depth": self.depth,
            **self.detail,
        }


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str
    label: str

    def as_json(self) -> dict:
        return {"source": self.source, "target": self.target, "label": self.label, "value": self.label}


@dataclass(frozen=True)
class Membership:
    """An enterprise tied to a shared thing (an agent, a phone, an address): what ring_summary groups."""

    kind: str  # "agent" | PHONE | ADDRESS
    node_id: str
    enterprise_id: int
    via_agent: bool = False


@dataclass
class LinkGraph:
    start: str | None
    depth: int
    max_nodes: int
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)
    truncated: bool = False
    memberships: set[Membership] = field(default_factory=set, repr=False)
    _id_numbers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def is_empty(self) -> bool:
        return not self.nodes

    def id_number_of(self, node_id: str) -> str | None:
        """The full ID number behind a person node (server side only: for re-centring, full view)."""
        return self._id_numbers.get(node_id)

    def node(self, node_id: str) -> GraphNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def nodes_of(self, kind: str) -> list[GraphNode]:
        return [n for n in self.nodes if n.kind == kind]

    def as_json(self) -> dict:
        """The graph for an ECharts `graph` series: categories, nodes (id, name, category) and links."""
        return {
            "start": self.start,
            "depth": self.depth,
            "truncated": self.truncated,
            "categories": [{"name": label, "kind": kind} for kind, label in CATEGORIES],
            "nodes": [n.as_json() for n in self.nodes],
            "links": [e.as_json() for e in self.edges],
        }


def _key(kind: str, value: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256)
    return f"{kind[0]}:{digest.hexdigest()[:16]}"


@dataclass
class _Frontier:
    persons: set[str] = field(default_factory=set)
    enterprises: set[int] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.persons or self.enterprises or self.phones or self.addresses)


class _Builder:
    def __init__(self, graph: LinkGraph):
        self.graph = graph
        self.by_id: dict[str, GraphNode] = {}
        self.edge_keys: set[tuple[str, str, str]] = set()
        self.enterprises_loaded: set[int] = set()
        self.next = _Frontier()
        self.level = 0

    @property
    def free(self) -> int:
        return self.graph.max_nodes - len(self.graph.nodes)

    def _add(self, node_id: str, kind: str, label: str, **detail) -> bool:
        """True if the node is (now) in the graph; False when the cap kept it out."""
        if node_id in self.by_id:
            return True
        if self.free <= 0:
            self.graph.truncated = True
            return False
        node = GraphNode(id=node_id, kind=kind, label=label, depth=self.level, detail=detail)
        self.by_id[node_id] = node
        self.graph.nodes.append(node)
        return True

    def person(self, id_number: str, name: str) -> str | None:
        node_id = _key(PERSON, id_number)
        known = node_id in self.by_id
        if not self._add(node_id, PERSON, f"{name} {mask_id_number(id_number)}".strip()):
            return None
        if not known:
            self.graph._id_numbers[node_id] = id_number
            self.next.persons.add(id_number)
        return node_id

    def enterprise(self, pk: int, label: str = "") -> str | None:
        node_id = f"e:{pk}"
        known = node_id in self.by_id
        if not self._add(node_id, ENTERPRISE, label or f"#{pk}", enterprise_id=pk):
            return None
        if not known:
            self.next.enterprises.add(pk)
        return node_id

    def phone(self, digits: str) -> str | None:
        node_id = _key(PHONE, digits)
        known = node_id in self.by_id
        if not self._add(node_id, PHONE, mask_phone(digits)):
            return None
        if not known:
            self.next.phones.add(digits)
        return node_id

    def address(self, key: str, text: str) -> str | None:
        node_id = _key(ADDRESS, key)
        known = node_id in self.by_id
        if not self._add(node_id, ADDRESS, (text or key)[:60]):
            return None
        if not known:
            self.next.addresses.add(key)
        return node_id

    def case(self, pk: int, label: str, **detail) -> str | None:
        node_id = f"c:{pk}"
        return node_id if self._add(node_id, CASE, label, **detail) else None

    def edge(self, source: str | None, target: str | None, label: str) -> None:
        if source is None or target is None or source == target:
            return
        key = (source, target, label)
        if key not in self.edge_keys:
            self.edge_keys.add(key)
            self.graph.edges.append(GraphEdge(source, target, label))

    def member(self, kind: str, node_id: str | None, enterprise_id: int, via_agent: bool = False) -> None:
        if node_id is not None and f"e:{enterprise_id}" in self.by_id:
            self.graph.memberships.add(Membership(kind, node_id, enterprise_id, via_agent))


def _check(depth: Any, max_nodes: Any) -> tuple[int, int]:
    try:
        depth, max_nodes = int(depth), int(max_nodes)
    except (TypeError, ValueError):
        raise ValidationError("关联层数和节点上限应为整数。", code="link_graph_bounds") from None
    if not 1 <= depth <= MAX_DEPTH:
        raise ValidationError(
            "关联层数应在 1 到 %(max)d 之间。", code="link_graph_depth", params={"max": MAX_DEPTH}
        )
    if not 1 <= max_nodes <= MAX_NODES_LIMIT:
        raise ValidationError(
            "节点上限应在 1 到 %(max)d 之间。", code="link_graph_nodes", params={"max": MAX_NODES_LIMIT}
        )
    return depth, max_nodes


def link_graph(*, id_number: str, depth: int = 2, max_nodes: int = 300) -> LinkGraph:
    """The graph of everything linked to the person with this ID number, up to `depth` hops.

    Raises ValidationError (Chinese message) for an invalid ID number or bounds. A valid ID number the
    register and the cases do not know gives an empty graph.
    """
    number = validate_resident_id(id_number)
    depth, max_nodes = _check(depth, max_nodes)
    graph = LinkGraph(start=None, depth=depth, max_nodes=max_nodes)
    build = _Builder(graph)
    frontier = _Frontier(persons={number})
    for level in range(1, depth + 1):
        if not frontier or build.free <= 0:
            break
        build.level = level
        build.next = _Frontier()
        _expand(build, frontier, start=number if level == 1 else None)
        frontier = build.next
    if graph.nodes:
        graph.start = _key(PERSON, number)
    return graph


def _expand(build: _Builder, frontier: _Frontier, *, start: str | None) -> None:
    limit = max(build.free, 1) * ROWS_PER_FREE_NODE
    roles = register.person_role_links(
        id_numbers=frontier.persons,
        enterprise_ids=frontier.enterprises,
        phones=frontier.phones,
        address_keys=frontier.addresses,
        limit=limit,
    )
    cases = cases_of_people(id_numbers=frontier.persons, phones=frontier.phones, limit=limit)
    wanted = {r.enterprise_id for r in roles} | {c.enterprise_id for c in cases if c.enterprise_id}
    enterprises = register.enterprise_links(
        ids=wanted - build.enterprises_loaded, address_keys=frontier.addresses, limit=limit
    )
    if start is not None and not roles and not cases:
        return  # a person the register and the cases do not know: an empty graph
    if start is not None:
        name = next((r.name for r in roles if r.id_number == start), "") or next(
            (
                c.applicant_name if c.applicant_id_number == start else c.agent_name
                for c in cases
                if start in (c.applicant_id_number, c.agent_id_number)
            ),
            "",
        )
        build.level = 0
        build.person(start, name)
        build.level = 1
        build.next.persons.discard(start)

    # Enterprises first, so that person-roles attach to labelled nodes, in the order the rows link them.
    details = {e.pk: e for e in enterprises}
    ordered = [e.pk for e in enterprises if e.address_key in frontier.addresses]
    linked = [r.enterprise_id for r in roles] + [c.enterprise_id for c in cases if c.enterprise_id]
    ordered += [pk for pk in dict.fromkeys(linked) if pk not in ordered]
    for pk in ordered:
        e = details.get(pk)
        node = build.enterprise(pk, e.name if e else "")
        if node is None or e is None:
            continue
        build.enterprises_loaded.add(pk)
        build.by_id[node].label = e.name
        build.by_id[node].detail.update(uscc=e.uscc, status=STATUS_LABELS.get(e.status, e.status))
        if e.address_key:
            place = build.address(e.address_key, e.address)
            build.edge(node, place, SAME_ADDRESS)
            build.member(ADDRESS, place, pk)

    for r in roles:
        company = f"e:{r.enterprise_id}" if f"e:{r.enterprise_id}" in build.by_id else None
        person = build.person(r.id_number, r.name)
        label = ROLE_LABELS.get(r.role, r.role) + ("（已卸任）" if r.ended_on else "")
        build.edge(person, company, label)
        if person is None:
            continue
        if r.role == PersonRole.AGENT:
            build.member("agent", person, r.enterprise_id)
        if r.phone:
            phone = build.phone(r.phone)
            build.edge(person, phone, SAME_PHONE)
            build.member(PHONE, phone, r.enterprise_id, via_agent=r.role in AGENT_ROLES)
        if r.address_key:
            place = build.address(r.address_key, r.address)
            build.edge(person, place, SAME_ADDRESS)
            build.member(ADDRESS, place, r.enterprise_id)

    for c in cases:
        if c.enterprise_id and f"e:{c.enterprise_id}" in build.by_id:
            target = f"e:{c.enterprise_id}"
        elif c.enterprise_id and c.enterprise_id in details:
            target = build.enterprise(c.enterprise_id, details[c.enterprise_id].name)
        else:
            target = build.case(c.pk, f"{c.number} {c.enterprise_name}", case_number=c.number)
        suffix = f"（{c.case_type_label} {c.number}）"
        if c.applicant_id_number:
            build.edge(build.person(c.applicant_id_number, c.applicant_name), target, "申请人" + suffix)
        if c.agent_id_number:
            agent = build.person(c.agent_id_number, c.agent_name)
            build.edge(agent, target, "代理人" + suffix)
            if c.enterprise_id:
                build.member("agent", agent, c.enterprise_id)
            if c.agent_phone and agent is not None:
                phone = build.phone(c.agent_phone)
                build.edge(agent, phone, SAME_PHONE)
                if c.enterprise_id:
                    build.member(PHONE, phone, c.enterprise_id, via_agent=True)


@dataclass(frozen=True)
class RingGroup:
    kind: str  # "agent" | "phone" | "address"
    node_id: str
    label: str
    enterprise_ids: tuple[int, ...]
    text: str

    @property
    def size(self) -> int:
        return len(self.enterprise_ids)


def ring_summary(graph: LinkGraph, *, min_size: int = 3) -> list[RingGroup]:
    """Groups of enterprises of the graph sharing one agent, phone or address, largest first.

    Each says it in a sentence for the page: "12 家企业共用同一代理人电话".
    """
    groups: dict[tuple[str, str], set[int]] = defaultdict(set)
    via_agent: dict[tuple[str, str], bool] = defaultdict(bool)
    for m in graph.memberships:
        groups[(m.kind, m.node_id)].add(m.enterprise_id)
        via_agent[(m.kind, m.node_id)] |= m.via_agent
    result = []
    for (kind, node_id), enterprise_ids in groups.items():
        if len(enterprise_ids) < min_size:
            continue
        n = len(enterprise_ids)
        if kind == "agent":
            text = f"{n} 家企业由同一委托代理人办理登记"
        elif kind == PHONE:
            text = (
                f"{n} 家企业共用同一代理人电话" if via_agent[(kind, node_id)] else f"{n} 家企业共用同一电话"
            )
        else:
            text = f"{n} 家企业共用同一住所"
        node = graph.node(node_id)
        result.append(
            RingGroup(
                kind=kind,
                node_id=node_id,
                label=node.label if node else "",
                enterprise_ids=tuple(sorted(enterprise_ids)),
                text=text,
            )
        )
    order = {"agent": 0, PHONE: 1, ADDRESS: 2}
    result.sort(key=lambda g: (-g.size, order.get(g.kind, 9), g.node_id))
    return result
