"""The portal lookup of an enterprise's basic record: only OPEN items are listed, personal data is masked,
each lookup is a served AccessRequest and a logged search, and one address is rate-limited."""

from __future__ import annotations

import pytest
from django.test import Client

from bizreg.archives.models import (
    AccessRequest,
    AccessState,
    ArchiveAccessLog,
    Classification,
    DocType,
    OpenStatus,
    QueryChannel,
    RequesterKind,
)
from bizreg.archives.services.records import item_add

pytestmark = pytest.mark.django_db

URL = "/portal/archives/"


def visitor(ip: str = "203.0.113.9") -> Client:
    return Client(REMOTE_ADDR=ip)


@pytest.fixture
def internal_item(archive, archivist):
    return item_add(
        archive=archive,
        actor=archivist,
        doc_type=DocType.OTHER,
        title="内部审查意见",
        classification=Classification.INTERNAL,
        open_status=OpenStatus.OPEN,
    )


def test_lookup_by_uscc_shows_the_basic_record_and_open_items_only(enterprise, archive, internal_item):
    enterprise.in_ftz = True
    enterprise.ftz_area = "南沙湾片区"
    enterprise.save()
    response = visitor().get(URL, {"q": f" {enterprise.uscc.lower()} "})
    assert response.status_code == 200
    page = response.content.decode()
    assert enterprise.name in page
    assert enterprise.uscc in page
    assert "有限责任公司" in page
    assert "2020-06-01" in page
    assert enterprise.address in page
    assert "存续" in page
    assert "自贸区" in page and "南沙湾片区" in page
    assert "公司登记（备案）申请书" in page
    assert "公司章程" in page
    assert "股东身份证明" not in page  # controlled
    assert "内部审查意见" not in page  # internal, even though flagged open
    assert "张*" in page
    assert enterprise.legal_rep_name not in page
    assert enterprise.legal_rep_id_number not in page
    assert "退出" not in page


def test_lookup_by_exact_name_and_a_miss(enterprise, archive):
    assert enterprise.name in visitor().get(URL, {"q": enterprise.name}).content.decode()
    response = visitor().get(URL, {"q": "广州南沙海港"})  # not the full name
    assert response.status_code == 200
    assert 'data-testid="no-result"' in response.content.decode()
    assert AccessRequest.objects.count() == 1  # the miss is not a request of any authority


def test_each_lookup_is_a_served_request_and_a_logged_search(enterprise, archive):
    visitor().get(URL, {"q": enterprise.uscc})
    request = AccessRequest.objects.get()
    assert request.channel == QueryChannel.PORTAL
    assert request.requester_kind == RequesterKind.PUBLIC
    assert request.full_file is False
    assert request.state == AccessState.SERVED
    assert request.served_at == request.submitted_at
    assert request.served_at <= request.due_at
    assert request.archive == archive
    assert request.authority == enterprise.authority
    assert request.reference.startswith("DA") and request.reference.endswith("-0001")
    log = ArchiveAccessLog.objects.get()
    assert log.action == ArchiveAccessLog.Action.SEARCH
    assert log.access_request == request
    assert log.archive == archive
    assert log.ip_address == "203.0.113.9"
    visitor().get(URL, {"q": enterprise.uscc})
    assert AccessRequest.objects.latest("id").reference.endswith("-0002")


def test_empty_and_overlong_queries_are_refused_without_a_lookup(enterprise):
    assert visitor().get(URL).status_code == 200
    empty = visitor().get(URL, {"q": "   "})
    assert empty.status_code == 400
    assert "请输入统一社会信用代码或企业全称" in empty.content.decode()
    assert visitor().get(URL, {"q": "x" * 300}).status_code == 400
    assert AccessRequest.objects.count() == 0


def test_one_address_is_throttled(enterprise, settings):
    settings.ARCHIVES_PORTAL_LOOKUP_RATE_LIMIT = (3, 60)
    for _ in range(3):
        assert visitor().get(URL, {"q": enterprise.uscc}).status_code == 200
    throttled = visitor().get(URL, {"q": enterprise.uscc})
    assert throttled.status_code == 429
    assert throttled["Retry-After"] == "60"
    assert visitor("198.51.100.4").get(URL, {"q": enterprise.uscc}).status_code == 200
    assert AccessRequest.objects.count() == 4
