"""The users & roles pages for managers: list, filters, detail with history, Excel export, scoping."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from openpyxl import load_workbook

from bizreg.accounts.roles import ROLES
from bizreg.accounts.selectors import USER_PAGE_SIZE

pytestmark = pytest.mark.django_db

OTHER_ROLES = [r.code for r in ROLES if r.code != "manager"]


@pytest.fixture
def staff(make_user, authority, other_authority):
    return {
        "manager": make_user("manager", username="lijg", display_name="李建国"),
        "clerk": make_user(
            "registration_clerk", username="wangxh", display_name="王晓红", phone="13812345678"
        ),
        "operator": make_user(
            "digitization_operator",
            username="scan01",
            display_name="扫描员甲",
            employer="广州某数字科技有限公司",
        ),
        "disabled": make_user("archivist", username="oldstaff", display_name="已离职", is_active=False),
        "both": make_user("investigator", username="both", authorities=[authority, other_authority]),
        "outsider": make_user("registration_clerk", username="tianhe01", authorities=[other_authority]),
    }


def _usernames(response) -> list[str]:
    return [u.username for u in response.context["page"]]


def test_manager_sees_users_of_own_authorities_only(staff, client_for):
    response = client_for(staff["manager"]).get("/accounts/users/")
    assert response.status_code == 200
    assert _usernames(response) == ["both", "lijg", "oldstaff", "scan01", "wangxh"]
    html = response.content.decode()
    assert "tianhe01" not in html
    assert "窗口/预审人员" in html and "从未登录" in html and "停用" in html
    # role descriptions from roles.py
    assert "收件、预审、核准、通知书、执照打印、邮寄收件" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "王晓"}, ["wangxh"]),
        ({"q": "SCAN"}, ["scan01"]),
        ({"q": "数字科技"}, ["scan01"]),
        ({"role": "registration_clerk"}, ["wangxh"]),
        ({"role": "manager"}, ["lijg"]),
        ({"active": "0"}, ["oldstaff"]),
        ({"active": "1", "role": "archivist"}, []),
    ],
)
def test_filters(staff, client_for, params, expected):
    assert _usernames(client_for(staff["manager"]).get("/accounts/users/", params)) == expected


def test_filter_by_authority(staff, client_for, authority, other_authority, make_user):
    both_manager = make_user("manager", username="boss", authorities=[authority, other_authority])
    client = client_for(both_manager)
    assert _usernames(client.get("/accounts/users/", {"authority": other_authority.pk})) == [
        "boss",
        "both",
        "tianhe01",
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"role": "superhero"}, "角色"),
        ({"authority": "abc"}, "登记机关"),
        ({"active": "maybe"}, "状态"),
        ({"page": "-1"}, None),
        ({"page": "x"}, None),
        ({"q": "x" * 300}, "搜索"),
    ],
)
def test_bad_filter_input_is_a_message_not_a_crash(staff, client_for, params, message):
    response = client_for(staff["manager"]).get("/accounts/users/", params)
    assert response.status_code == 200
    if message:
        html = response.content.decode()
        assert "已忽略无效的筛选条件" in html and message in html


def test_another_authoritys_id_is_not_a_filter_choice(staff, client_for, other_authority):
    response = client_for(staff["manager"]).get("/accounts/users/", {"authority": other_authority.pk})
    assert "已忽略无效的筛选条件" in response.content.decode()
    assert "tianhe01" not in _usernames(response)


def test_pagination(staff, client_for, make_user):
    for n in range(USER_PAGE_SIZE + 3):
        make_user("hotline_agent", username=f"agent{n:03d}")
    client = client_for(staff["manager"])
    first = client.get("/accounts/users/", {"role": "hotline_agent"})
    assert len(first.context["page"]) == USER_PAGE_SIZE
    assert "第 1 / 2 页" in first.content.decode()
    assert "role=hotline_agent&amp;page=2" in first.content.decode()
    second = client.get("/accounts/users/", {"role": "hotline_agent", "page": 2})
    assert _usernames(second) == ["agent025", "agent026", "agent027"]


def test_list_query_count_is_constant(staff, client_for, make_user, django_assert_max_num_queries):
    for n in range(20):
        make_user("hotline_agent", username=f"agent{n:03d}")
    client = client_for(staff["manager"])
    with django_assert_max_num_queries(15):
        assert client.get("/accounts/users/").status_code == 200


def test_detail_shows_roles_authorities_and_history(staff, client_for, authority):
    clerk = staff["clerk"]
    manager = staff["manager"]
    # A role granted and the name corrected, each recorded with who did it.
    clerk._history_user = manager
    clerk.groups.add(Group.objects.get(name="咨询坐席"))
    clerk.display_name = "王小红"
    clerk._history_user = manager
    clerk.save()
    response = client_for(manager).get(f"/accounts/users/{clerk.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "王小红" in html and authority.name in html
    assert [r.code for r in response.context["roles"]] == ["registration_clerk", "hotline_agent"]
    history = response.context["history"]
    changes = [(c.label, c.old, c.new) for entry in history for c in entry.changes]
    assert ("姓名", "王晓红", "王小红") in changes
    assert ("角色", "窗口/预审人员", "咨询坐席、窗口/预审人员") in changes
    assert history[0].actor == "李建国"
    assert "138****5678" not in html or "13812345678" not in html


def test_history_masks_phone_numbers(staff, client_for):
    clerk = staff["clerk"]
    clerk.phone = "13900001111"
    clerk.save()
    html = client_for(staff["manager"]).get(f"/accounts/users/{clerk.pk}/").content.decode()
    assert "139****1111" in html and "138****5678" in html
    assert "13900001111" not in html and "13812345678" not in html


def test_detail_of_another_authoritys_user_is_not_found(staff, client_for):
    assert client_for(staff["manager"]).get(f"/accounts/users/{staff['outsider'].pk}/").status_code == 404
    assert client_for(staff["manager"]).get("/accounts/users/999999/").status_code == 404


def test_export_is_an_excel_file_of_the_filtered_list(staff, client_for):
    response = client_for(staff["manager"]).get("/accounts/users/export/", {"active": "1"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("用户名", "姓名", "角色", "所属登记机关", "所属单位", "联系电话", "最近登录", "状态")
    by_name = {row[0]: row for row in rows[1:]}
    assert sorted(by_name) == ["both", "lijg", "scan01", "wangxh"]  # active only, own authorities only
    assert by_name["wangxh"][5] == "138****5678"
    assert by_name["wangxh"][2] == "窗口/预审人员"
    assert by_name["scan01"][4] == "广州某数字科技有限公司"


def test_export_neutralizes_formulas_and_keeps_markup_as_text(make_user, client_for):
    manager = make_user("manager")
    make_user(
        "hotline_agent", username="evil", display_name='=HYPERLINK("http://x","点我")', employer="<b>x</b>"
    )
    response = client_for(manager).get("/accounts/users/export/", {"q": "evil"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1][1] == '\'=HYPERLINK("http://x","点我")'
    assert rows[1][4] == "<b>x</b>"


def test_markup_in_names_is_text_on_the_pages(make_user, client_for):
    manager = make_user("manager")
    evil = make_user("hotline_agent", username="evil", display_name="<script>alert(1)</script>")
    client = client_for(manager)
    for path in ("/accounts/users/", f"/accounts/users/{evil.pk}/"):
        html = client.get(path).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_are_refused(staff, role_users, client_for, role):
    client = client_for(role_users[role])
    for path in ("/accounts/users/", f"/accounts/users/{staff['clerk'].pk}/", "/accounts/users/export/"):
        assert client.get(path).status_code == 403, path


def test_manager_of_another_authority_sees_none_of_these_users(staff, make_user, client_for, other_authority):
    other_manager = make_user("manager", username="thboss", authorities=[other_authority])
    response = client_for(other_manager).get("/accounts/users/")
    assert _usernames(response) == ["both", "thboss", "tianhe01"]
    rows = list(
        load_workbook(
            io.BytesIO(client_for(other_manager).get("/accounts/users/export/").content)
        ).active.iter_rows(values_only=True)
    )
    assert sorted(r[0] for r in rows[1:]) == ["both", "thboss", "tianhe01"]
