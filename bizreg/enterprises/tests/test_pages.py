import datetime as dt
import re

import pytest

from bizreg.core.identifiers import build_resident_id
from bizreg.core.models import AccessLog
from bizreg.enterprises import services
from bizreg.enterprises.models import Enterprise, EnterpriseLock, FtzAddressRule, UsccException
from bizreg.enterprises.tests.conftest import next_uscc, wrong_check_digit

pytestmark = pytest.mark.django_db


def links(html: str) -> list[str]:
    return re.findall(r'data-testid="enterprise-link" href="/enterprises/(\d+)/">([^<]*)</a>', html)


def names(response) -> list[str]:
    return [name for _pk, name in links(response.content.decode())]


# --- list and search ------------------------------------------------------------------------------------


@pytest.fixture
def register(create, clerk, investigator):
    """A small register: four enterprises with distinct names, reps, a former name, a lock, an FTZ tag."""
    haigang = create(
        name="广州南沙海港科技有限公司", legal_rep_name="李明", established_on=dt.date(2021, 5, 8)
    )
    jinggang = create(
        name="广州精工制造有限公司",
        legal_rep_name="王芳",
        entity_type="joint_stock",
        industry="C",
        established_on=dt.date(2019, 1, 2),
    )
    renamed = create(name="广州老字号食品有限公司", legal_rep_name="陈强", established_on=dt.date(2015, 7, 1))
    renamed = services.enterprise_update(enterprise=renamed, actor=clerk, name="广州新食代餐饮有限公司")
    closed = create(
        name="南沙渔业合作社",
        legal_rep_name="赵四",
        entity_type="cooperative",
        industry="A",
        established_on=dt.date(2017, 3, 3),
    )
    closed = services.enterprise_update(enterprise=closed, actor=clerk, status="deregistered")
    services.enterprise_lock(enterprise=jinggang, actor=investigator, reason="冒用身份", case_reference="C-1")
    return {"haigang": haigang, "jinggang": jinggang, "renamed": renamed, "closed": closed}


def test_list_shows_rows_with_masked_ids_and_badges(client_for, clerk, register):
    response = client_for(clerk).get("/enterprises/")
    html = response.content.decode()
    assert response.status_code == 200
    assert len(links(html)) == 4
    full_id = register["haigang"].legal_rep_id_number
    assert full_id not in html
    assert f"{full_id[:4]}**********{full_id[-4:]}" in html
    assert html.count('data-testid="lock-badge"') == 1
    assert 'name="q"' in html
    assert "导出 Excel" in html
    assert "共 4 条" in html


@pytest.mark.parametrize(
    "q, expected",
    [
        ("海港", ["广州南沙海港科技有限公司"]),
        ("gznshg", ["广州南沙海港科技有限公司"]),
        ("GZJG", ["广州精工制造有限公司"]),
        ("王芳", ["广州精工制造有限公司"]),
        ("老字号", ["广州新食代餐饮有限公司"]),  # former name
        ("广州 有限公司 科技", ["广州南沙海港科技有限公司"]),  # every word must match
        ("不存在的名字", []),
    ],
)
def test_search_by_name_initials_legal_rep_and_former_name(client_for, clerk, register, q, expected):
    response = client_for(clerk).get("/enterprises/", {"q": q})
    assert sorted(names(response)) == sorted(expected)


def test_search_by_uscc_exact_and_prefix(client_for, clerk, register):
    code = register["haigang"].uscc
    assert names(client_for(clerk).get("/enterprises/", {"q": code.lower()})) == ["广州南沙海港科技有限公司"]
    prefix = names(client_for(clerk).get("/enterprises/", {"q": code[:8]}))
    assert "广州南沙海港科技有限公司" in prefix


def test_legal_rep_search_is_exact(client_for, clerk, register):
    assert names(client_for(clerk).get("/enterprises/", {"q": "王"})) == []


def test_single_character_is_not_searched_inside_names(client_for, clerk, register, create):
    create(name="单字测试公司", legal_rep_name="海")
    response = client_for(clerk).get("/enterprises/", {"q": "海"})
    assert names(response) == ["单字测试公司"]  # the legal representative named 海, not 海港 in names
    assert "按名称查找请至少输入 2 个字" in response.content.decode()


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"entity_type": "joint_stock"}, ["广州精工制造有限公司"]),
        ({"status": "deregistered"}, ["南沙渔业合作社"]),
        ({"industry": "C"}, ["广州精工制造有限公司"]),
        ({"locked": "1"}, ["广州精工制造有限公司"]),
        ({"established_from": "2020-01-01", "established_to": "2021-12-31"}, ["广州南沙海港科技有限公司"]),
        ({"established_to": "2015-12-31"}, ["广州新食代餐饮有限公司"]),
    ],
)
def test_filters(client_for, clerk, register, params, expected):
    assert sorted(names(client_for(clerk).get("/enterprises/", params))) == sorted(expected)


def test_filter_by_ftz_and_street(client_for, clerk, create, ftz_rule, other_street):
    create(name="自贸区内公司", address="进港大道 1 号")
    create(name="区外公司", address="黄阁北路 1 号", street=other_street)
    assert names(client_for(clerk).get("/enterprises/", {"in_ftz": "1"})) == ["自贸区内公司"]
    assert names(client_for(clerk).get("/enterprises/", {"in_ftz": "0"})) == ["区外公司"]
    assert names(client_for(clerk).get("/enterprises/", {"street": other_street.pk})) == ["区外公司"]


def test_sorting(client_for, clerk, register):
    oldest_first = names(client_for(clerk).get("/enterprises/", {"sort": "established_on"}))
    assert oldest_first[0] == "广州新食代餐饮有限公司"
    newest_first = names(client_for(clerk).get("/enterprises/"))
    assert newest_first[-1] == "广州新食代餐饮有限公司"
    by_pinyin = names(client_for(clerk).get("/enterprises/", {"sort": "name"}))
    assert by_pinyin[0].startswith("广州")
    assert by_pinyin[-1] == "南沙渔业合作社"


def test_invalid_filter_values_are_reported_not_crashing(client_for, clerk, register):
    response = client_for(clerk).get(
        "/enterprises/",
        {"established_from": "2023-13-45", "status": "nonsense", "street": "abc", "page": "x"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "以下筛选条件无效，已忽略" in html
    assert "成立日期起" in html and "登记状态" in html
    assert len(links(html)) == 4


def test_htmx_request_gets_only_the_results_partial(client_for, clerk, register):
    response = client_for(clerk).get("/enterprises/", {"q": "海港"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="enterprise-filters"' not in html
    assert names(response) == ["广州南沙海港科技有限公司"]


def test_pagination_50_per_page(client_for, clerk, authority):
    from bizreg.testing.factories import EnterpriseFactory

    EnterpriseFactory.create_batch(55, authority=authority)
    first = client_for(clerk).get("/enterprises/")
    assert len(links(first.content.decode())) == 50
    assert "第 1 / 2 页" in first.content.decode()
    second = client_for(clerk).get("/enterprises/", {"page": 2})
    assert len(links(second.content.decode())) == 5
    beyond = client_for(clerk).get("/enterprises/", {"page": 99})
    assert len(links(beyond.content.decode())) == 5  # past the end shows the last page


def test_count_stops_at_the_cap(clerk, authority, monkeypatch):
    from bizreg.enterprises import selectors
    from bizreg.testing.factories import EnterpriseFactory

    EnterpriseFactory.create_batch(7, authority=authority)
    monkeypatch.setattr(selectors, "COUNT_CAP", 5)
    paginator = selectors.EnterprisePaginator(
        selectors.enterprise_search(user=clerk, params={}), 2, count_cap=selectors.COUNT_CAP
    )
    assert paginator.count == 5 and paginator.count_is_capped
    assert paginator.num_pages == 2


# --- detail ---------------------------------------------------------------------------------------------


def test_detail_shows_fields_former_names_ftz_lock_and_history(
    client_for, clerk, create, ftz_rule, investigator
):
    enterprise = create(name="广州旧名有限公司", address="进港大道 9 号")
    enterprise = services.enterprise_update(enterprise=enterprise, actor=clerk, name="广州新名有限公司")
    services.enterprise_lock(
        enterprise=enterprise, actor=investigator, reason="冒用身份核查", case_reference="MY-1"
    )
    response = client_for(clerk).get(f"/enterprises/{enterprise.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r"<h1[^>]*>广州新名有限公司</h1>", html)
    assert enterprise.uscc in html
    assert "广州旧名有限公司" in html  # former name, and in the history diff
    assert "南沙片区·龙穴岛" in html and "命中规则：进港大道" in html
    assert "冒用身份核查" in html and "MY-1" in html
    assert 'data-testid="change-history"' in html
    assert re.search(r"名称</span>：<del[^>]*>广州旧名有限公司</del> → 广州新名有限公司", html)
    assert str(clerk) in html
    assert enterprise.legal_rep_id_number not in html
    assert "显示完整号码" in html  # the clerk holds core.view_full_personal_data


def test_detail_shows_manual_ftz_decision(client_for, clerk, create):
    enterprise = create(ftz_override=True, ftz_override_reason="管委会认定")
    html = client_for(clerk).get(f"/enterprises/{enterprise.pk}/").content.decode()
    assert "人工认定" in html and "管委会认定" in html


def test_history_masks_id_numbers(client_for, clerk, create):
    enterprise = create()
    old_id = enterprise.legal_rep_id_number
    new_id = build_resident_id("440115", dt.date(1975, 1, 1), 321)
    services.enterprise_update(enterprise=enterprise, actor=clerk, legal_rep_id_number=new_id)
    html = client_for(clerk).get(f"/enterprises/{enterprise.pk}/").content.decode()
    assert old_id not in html and new_id not in html
    assert new_id[:4] + "**********" + new_id[-4:] in html


def test_reveal_full_id_is_logged(client_for, clerk, create):
    enterprise = create()
    response = client_for(clerk).post(f"/enterprises/{enterprise.pk}/reveal-id/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert enterprise.legal_rep_id_number in response.content.decode()
    log = AccessLog.objects.get()
    assert (log.user, log.action, log.object_id, log.fields) == (
        clerk,
        "view",
        str(enterprise.pk),
        "legal_rep_id_number",
    )


def test_reveal_needs_post(client_for, clerk, create):
    enterprise = create()
    assert client_for(clerk).get(f"/enterprises/{enterprise.pk}/reveal-id/").status_code == 405
    assert not AccessLog.objects.exists()


def test_unknown_enterprise_is_404(client_for, clerk):
    assert client_for(clerk).get("/enterprises/999999/").status_code == 404


# --- create and edit ------------------------------------------------------------------------------------


def form_data(entry, **overrides):
    data = entry(**overrides)
    data["street"] = data["street"].pk
    data["established_on"] = data["established_on"].isoformat()
    data.setdefault("status", "active")
    data["registered_capital"] = data["registered_capital"] or ""
    return data


def test_create_page_registers_and_redirects_to_detail(client_for, clerk, entry):
    data = form_data(entry, registered_capital="150.5")
    response = client_for(clerk).post("/enterprises/new/", data)
    enterprise = Enterprise.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/enterprises/{enterprise.pk}/"
    assert str(enterprise.registered_capital) == "1505000.00"  # entered in 万元, stored in 元
    assert enterprise.history.get().history_user == clerk


def test_create_form_hides_exception_fields_from_clerks(client_for, clerk, make_user):
    from django.contrib.auth.models import Permission

    assert "uscc_exception_reason" not in client_for(clerk).get("/enterprises/new/").content.decode()
    both = make_user("registration_clerk")
    both.user_permissions.add(Permission.objects.get(codename="confirm_uscc_exception"))
    assert "uscc_exception_reason" in client_for(both).get("/enterprises/new/").content.decode()


def test_create_page_with_exception_confirmation_in_the_same_form(client_for, make_user, entry):
    from django.contrib.auth.models import Permission

    user = make_user("registration_clerk")
    user.user_permissions.add(Permission.objects.get(codename="confirm_uscc_exception"))
    code = wrong_check_digit(next_uscc())
    response = client_for(user).post(
        "/enterprises/new/", form_data(entry, uscc=code, uscc_exception_reason="早期试点代码")
    )
    assert response.status_code == 302
    enterprise = Enterprise.objects.get(uscc=code)
    assert enterprise.uscc_is_exception
    assert UsccException.objects.get(uscc=code).reason == "早期试点代码"
    detail = client_for(user).get(f"/enterprises/{enterprise.pk}/").content.decode()
    assert 'data-testid="exception-badge"' in detail
    listing = client_for(user).get("/enterprises/").content.decode()
    assert 'data-testid="exception-badge"' in listing


def test_edit_page_renames_and_keeps_id_when_blank(client_for, clerk, create, entry):
    enterprise = create()
    page = client_for(clerk).get(f"/enterprises/{enterprise.pk}/edit/").content.decode()
    assert enterprise.legal_rep_id_number not in page
    data = form_data(entry, uscc=enterprise.uscc, name="改名后有限公司", legal_rep_id_number="")
    response = client_for(clerk).post(f"/enterprises/{enterprise.pk}/edit/", data)
    assert response.status_code == 302
    enterprise.refresh_from_db()
    assert enterprise.name == "改名后有限公司"
    assert enterprise.former_names.get().name == "广州南沙海港科技有限公司"
    assert enterprise.legal_rep_id_number == entry()["legal_rep_id_number"]


def test_edit_of_locked_enterprise_shows_the_lock(client_for, clerk, create, entry, investigator):
    enterprise = create()
    services.enterprise_lock(enterprise=enterprise, actor=investigator, reason="冒用身份调查中")
    data = form_data(entry, uscc=enterprise.uscc, name="锁定时改名")
    response = client_for(clerk).post(f"/enterprises/{enterprise.pk}/edit/", data)
    assert response.status_code == 200
    assert "冒用身份调查中" in response.content.decode()
    enterprise.refresh_from_db()
    assert enterprise.name == "广州南沙海港科技有限公司"


# --- locks ----------------------------------------------------------------------------------------------


def test_lock_and_unlock_pages(client_for, investigator, create):
    enterprise = create()
    client = client_for(investigator)
    assert client.get(f"/enterprises/{enterprise.pk}/lock/").status_code == 200
    response = client.post(
        f"/enterprises/{enterprise.pk}/lock/", {"reason": "涉嫌冒用", "case_reference": "MY-5"}
    )
    assert response.status_code == 302
    lock = EnterpriseLock.objects.get()
    assert (lock.locked_by, lock.case_reference) == (investigator, "MY-5")

    again = client.post(f"/enterprises/{enterprise.pk}/lock/", {"reason": "再锁"})
    assert again.status_code == 200 and "已被" in again.content.decode()
    assert EnterpriseLock.objects.count() == 1

    empty = client.post(f"/enterprises/{enterprise.pk}/unlock/", {"reason": ""})
    assert empty.status_code == 200 and 'data-field-error="reason"' in empty.content.decode()
    response = client.post(f"/enterprises/{enterprise.pk}/unlock/", {"reason": "核查完毕"})
    assert response.status_code == 302
    lock.refresh_from_db()
    assert lock.released_by == investigator

    not_locked = client.post(f"/enterprises/{enterprise.pk}/unlock/", {"reason": "再解"})
    assert "未被锁定" in not_locked.content.decode()


# --- USCC exceptions page -------------------------------------------------------------------------------


def test_exception_page_records_confirmation(client_for, manager):
    code = wrong_check_digit(next_uscc())
    client = client_for(manager)
    assert client.get("/enterprises/uscc-exceptions/").status_code == 200
    response = client.post("/enterprises/uscc-exceptions/", {"uscc": code, "reason": "2016 年试点核发"})
    assert response.status_code == 302
    assert UsccException.objects.get(uscc=code).confirmed_by == manager
    assert code in client.get("/enterprises/uscc-exceptions/").content.decode()


def test_exception_page_refuses_a_valid_code_with_a_field_error(client_for, manager):
    response = client_for(manager).post(
        "/enterprises/uscc-exceptions/", {"uscc": "91110000600037341L", "reason": "x"}
    )
    assert response.status_code == 200
    assert "校验通过，无需登记例外" in response.content.decode()
    assert not UsccException.objects.exists()


# --- FTZ rules pages ------------------------------------------------------------------------------------


def test_ftz_rule_pages_create_edit_and_recompute(
    client_for, manager, create, authority, eager, django_capture_on_commit_callbacks
):
    enterprise = create(address="南沙区海滨路 1 号")
    client = client_for(manager)
    assert client.get("/enterprises/ftz-rules/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/enterprises/ftz-rules/new/",
            {
                "area_name": "南沙湾",
                "address_keyword": "海滨路",
                "priority": 20,
                "is_active": "on",
                "note": "",
            },
        )
    assert response.status_code == 302
    enterprise.refresh_from_db()
    assert enterprise.in_ftz and enterprise.ftz_area == "南沙湾"
    rule = FtzAddressRule.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/enterprises/ftz-rules/{rule.pk}/edit/",
            {"area_name": "南沙湾", "address_keyword": "海滨路", "priority": 20, "note": ""},  # deactivated
        )
    enterprise.refresh_from_db()
    assert not enterprise.in_ftz
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/enterprises/ftz-rules/recompute/").status_code == 302
    listing = client.get("/enterprises/ftz-rules/").content.decode()
    assert "海滨路" in listing


def test_ftz_rule_form_errors(client_for, manager):
    response = client_for(manager).post(
        "/enterprises/ftz-rules/new/", {"area_name": "", "address_keyword": "", "priority": "-1"}
    )
    assert response.status_code == 200
    assert 'data-field-error="address_keyword"' in response.content.decode()
    assert not FtzAddressRule.objects.exists()


def test_other_authoritys_rule_is_404(client_for, manager, other_authority):
    rule = FtzAddressRule.objects.create(authority=other_authority, area_name="别处", address_keyword="x")
    assert client_for(manager).get(f"/enterprises/ftz-rules/{rule.pk}/edit/").status_code == 404
