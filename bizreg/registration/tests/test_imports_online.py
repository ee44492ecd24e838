"""Import of online submissions (一网通办): JSON and Excel, idempotent by application number, per-row errors
with the intake's own validation, all-or-nothing unless only good rows are wanted."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from bizreg.core.identifiers import build_resident_id, build_uscc
from bizreg.core.jobs import JobError
from bizreg.core.models import BackgroundJob
from bizreg.enterprises import services as enterprise_services
from bizreg.registration.models import CaseMaterial, CaseState, Channel, RegistrationCase
from bizreg.registration.services import imports
from bizreg.testing import factories

pytestmark = pytest.mark.django_db

APPLICANT_ID = build_resident_id("440115", dt.date(1988, 8, 8), 18)


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def clerk(role_users):
    return role_users["registration_clerk"]


@pytest.fixture
def enterprise(authority):
    return factories.EnterpriseFactory(authority=authority, name="广州南沙网办变更测试有限公司")


def change_row(enterprise, external_id="YWTB2023050800001", **overrides) -> dict:
    row = {
        "external_id": external_id,
        "case_type": "变更",
        "channel": "一网通办",
        "submitted_at": "2023-05-08 09:30:00",
        "enterprise_name": enterprise.name,
        "uscc": enterprise.uscc,
        "applicant_name": "陈大文",
        "applicant_id_number": APPLICANT_ID,
        "applicant_phone": "13812345678",
        "materials": ["change_application", "resolution", "articles_amendment", "licence_return"],
        "requested_changes": {"住所": "广州市南沙区海滨路 171 号"},
    }
    row.update(overrides)
    return row


def establishment_row(external_id="QCDZH2023050800002", **overrides) -> dict:
    row = {
        "external_id": external_id,
        "case_type": "establishment",
        "channel": "full_electronic",
        "submitted_at": "2023-05-08T10:15:00+08:00",
        "enterprise_name": "广州南沙新设网办科技有限公司",
        "applicant_name": "李小红",
        "applicant_id_number": build_resident_id("440115", dt.date(1992, 2, 2), 27),
        "applicant_phone": "13900001111",
        "agent_name": "张代理",
        "agent_id_number": build_resident_id("440115", dt.date(1990, 1, 1), 35),
        "agent_phone": "13700002222",
        "materials": "application、articles, shareholder_qualification；officers_appointment domicile_proof "
        "name_declaration liaison_info",
        "requested_changes": {
            "entity_type": "llc",
            "legal_rep_name": "李小红",
            "legal_rep_id_number": build_resident_id("440115", dt.date(1992, 2, 2), 27),
            "industry": "I",
            "address": "广州市南沙区进港大道 8 号",
            "street": "南沙街道",
        },
    }
    row.update(overrides)
    return row


def json_upload(rows, name="batch.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, json.dumps(rows, ensure_ascii=False).encode(), "application/json")


def excel_upload(rows, name="batch.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([header for _name, header in imports.FIELDS])
    for row in rows:
        values = []
        for field_name, _header in imports.FIELDS:
            value = row.get(field_name)
            if isinstance(value, list):
                value = "、".join(value)
            elif isinstance(value, dict):
                value = json.dumps(value, ensure_ascii=False)
            values.append(value)
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def run(authority, clerk, upload, *, good_rows_only=False) -> BackgroundJob:
    job = imports.online_import_submit(
        authority=authority, actor=clerk, upload=upload, good_rows_only=good_rows_only
    )
    from bizreg.core import jobs

    jobs.execute(job.pk)
    job.refresh_from_db()
    return job


# --- the good path --------------------------------------------------------------------------------------


@pytest.mark.parametrize("make_upload", [json_upload, excel_upload], ids=["json", "excel"])
def test_a_batch_becomes_received_cases(authority, clerk, enterprise, make_upload):
    job = run(authority, clerk, make_upload([change_row(enterprise), establishment_row()]))
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.error
    assert job.result["imported"] == 2 and job.result["bad_rows"] == 0
    change = RegistrationCase.objects.get(external_id="YWTB2023050800001")
    assert change.state == CaseState.RECEIVED
    assert change.channel == Channel.ONE_STOP_ONLINE
    assert change.enterprise == enterprise
    assert change.requested_changes == {"address": "广州市南沙区海滨路 171 号"}
    assert change.received_at == dt.datetime(2023, 5, 8, 1, 30, tzinfo=dt.UTC)
    assert change.number.startswith(f"{authority.code}20230508")
    assert change.applicant_id_number == APPLICANT_ID
    received = set(
        CaseMaterial.objects.filter(case=change, received=True).values_list("requirement__code", flat=True)
    )
    assert received == {"change_application", "resolution", "articles_amendment", "licence_return"}
    new = RegistrationCase.objects.get(external_id="QCDZH2023050800002")
    assert new.case_type == "establishment" and new.channel == Channel.FULL_ELECTRONIC
    assert new.agent_name == "张代理"
    assert new.requested_changes["street"] > 0  # the street's name was turned into the register's street
    assert {c["external_id"] for c in job.result["cases"]} == {"YWTB2023050800001", "QCDZH2023050800002"}


def test_importing_the_same_batch_again_creates_nothing(authority, clerk, enterprise):
    rows = [change_row(enterprise), establishment_row()]
    run(authority, clerk, json_upload(rows))
    again = run(authority, clerk, json_upload(rows))
    assert again.status == BackgroundJob.Status.SUCCEEDED
    assert again.result["imported"] == 0
    assert again.result["already_imported"] == 2
    assert RegistrationCase.objects.count() == 2


def test_rerunning_a_finished_job_creates_nothing(authority, clerk, enterprise):
    from bizreg.core import jobs

    job = run(authority, clerk, json_upload([change_row(enterprise)]))
    BackgroundJob.objects.filter(pk=job.pk).update(status=BackgroundJob.Status.PENDING)
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert job.result["imported"] == 0 and job.result["already_imported"] == 1
    assert RegistrationCase.objects.count() == 1


def test_duplicate_rows_in_a_file_are_counted_once(authority, clerk, enterprise):
    row = change_row(enterprise)
    job = run(authority, clerk, json_upload([row, dict(row), establishment_row()]))
    assert job.result["imported"] == 2
    assert job.result["duplicates_in_file"] == 1
    assert job.result["duplicates"] == [{"row": 2, "external_id": row["external_id"], "same_as": 1}]
    assert RegistrationCase.objects.filter(external_id=row["external_id"]).count() == 1


def test_same_number_with_other_content_is_an_error(authority, clerk, enterprise):
    row = change_row(enterprise)
    job = run(authority, clerk, json_upload([row, row | {"applicant_phone": "13811112222"}]))
    assert job.result["rejected"] is True
    assert job.result["errors"][0]["row"] == 2
    assert "内容不同" in job.result["errors"][0]["message"]
    assert not RegistrationCase.objects.exists()


# --- per-row errors -------------------------------------------------------------------------------------


BAD_ROWS = [
    ({"applicant_id_number": "440115198808080000"}, "申请人身份证号", "校验码"),
    ({"applicant_phone": "1381234"}, "申请人手机", "11 位"),
    ({"uscc": "91440115MA59C7R27"}, "统一社会信用代码", ""),
    ({"case_type": "开业"}, "业务类型", "无法识别"),
    ({"channel": "窗口"}, "办理渠道", "网办渠道"),
    ({"submitted_at": "昨天上午"}, "提交时间", "无法识别"),
    ({"submitted_at": "2999-01-01 09:00:00"}, "提交时间", "不能晚于现在"),
    ({"materials": ["no_such_material"]}, "提交材料", "no_such_material"),
    ({"external_id": ""}, "申请号", "请填写"),
    ({"requested_changes": "住所=某路"}, "申请事项", "JSON"),
]


@pytest.mark.parametrize(("overrides", "column", "message"), BAD_ROWS, ids=[b[1] for b in BAD_ROWS])
def test_a_bad_row_is_reported_and_nothing_is_imported(
    authority, clerk, enterprise, overrides, column, message
):
    rows = [establishment_row(), change_row(enterprise, **overrides)]
    job = run(authority, clerk, json_upload(rows))
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert job.result["rejected"] is True
    assert job.result["imported"] == 0
    assert job.result["bad_rows"] == 1
    errors = [e for e in job.result["errors"] if e["row"] == 2]
    assert any(e["column"] == column and message in e["message"] for e in errors), errors
    assert not RegistrationCase.objects.exists()


def test_only_good_rows_when_asked(authority, clerk, enterprise):
    rows = [change_row(enterprise, applicant_phone="12345"), establishment_row()]
    job = run(authority, clerk, json_upload(rows), good_rows_only=True)
    assert job.result["rejected"] is False
    assert job.result["imported"] == 1
    assert job.result["bad_rows"] == 1
    assert list(RegistrationCase.objects.values_list("external_id", flat=True)) == ["QCDZH2023050800002"]


def test_a_locked_enterprise_is_refused_with_the_reason(authority, clerk, enterprise, role_users):
    enterprise_services.enterprise_lock(
        enterprise=enterprise,
        actor=role_users["investigator"],
        reason="涉嫌冒用身份",
        case_reference="MY2023-0001",
    )
    job = run(authority, clerk, json_upload([change_row(enterprise)]))
    assert job.result["rejected"] is True
    error = job.result["errors"][0]
    assert error["column"] == "统一社会信用代码"
    assert "涉嫌冒用身份" in error["message"]
    unlocked_for_case = run(
        authority, clerk, json_upload([change_row(enterprise, investigation_reference="MY2023-0001")])
    )
    assert unlocked_for_case.result["imported"] == 1


def test_unknown_enterprise_code_is_an_error(authority, clerk, enterprise):
    job = run(authority, clerk, json_upload([change_row(enterprise, uscc=build_uscc("440115", "88888888"))]))
    assert job.result["errors"][0]["column"] == "统一社会信用代码"
    assert "没有统一社会信用代码为" in job.result["errors"][0]["message"]


def test_the_submitter_needs_intake_permission(authority, role_users, enterprise):
    job = run(authority, role_users["registration_clerk"], json_upload([change_row(enterprise)]))
    assert job.result["imported"] == 1
    manager = role_users["manager"]
    with pytest.raises(JobError, match="无受理登记业务的权限"):
        imports.online_import_execute(
            job=BackgroundJob.objects.create(
                authority=authority,
                kind=imports.IMPORT_JOB_KIND,
                created_by=manager,
                input_file=job.input_file,
            ),
            progress=lambda done, total: None,
        )


# --- whole-file problems --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.json", "文件为空"),
        (b'{"external_id": 1}', "obj.json", "最外层应为数组"),
        (b"[1, 2]", "nums.json", "不是对象"),
        (b'[{"external_id": "x", "secret": 1}]', "extra.json", "无法识别的字段"),
        (b'[{"external_id": ', "broken.json", "JSON 格式错误"),
        (b"[]", "none.json", "没有数据"),
        (b"external_id,case_type\n", "batch.csv", "只能导入 JSON"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "old.xls", ".xls"),
        (b"PK\x03\x04broken", "broken.xlsx", "已损坏"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_at_upload(authority, clerk, content, name, message):
    with pytest.raises(Exception) as exc:
        imports.online_import_submit(
            authority=authority, actor=clerk, upload=SimpleUploadedFile(name, content), good_rows_only=False
        )
    assert message in str(exc.value)
    assert not BackgroundJob.objects.exists()


def test_excel_with_wrong_headers_is_refused(authority, clerk):
    workbook = Workbook()
    workbook.active.append(["申请号", "类型", "备注"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(Exception) as exc:
        imports.online_import_submit(
            authority=authority,
            actor=clerk,
            upload=SimpleUploadedFile("x.xlsx", buffer.getvalue()),
            good_rows_only=False,
        )
    assert "缺少列" in str(exc.value) and "无法识别的列：类型、备注" in str(exc.value)


def test_too_many_rows_is_refused(authority, clerk, enterprise, settings):
    settings.REGISTRATION_IMPORT_MAX_ROWS = 2
    rows = [change_row(enterprise, external_id=f"A{n}") for n in range(3)]
    with pytest.raises(Exception) as exc:
        imports.online_import_submit(
            authority=authority, actor=clerk, upload=json_upload(rows), good_rows_only=False
        )
    assert "超过 2 件" in str(exc.value)


def test_excel_numbers_in_code_columns_are_refused(authority, clerk, enterprise):
    row = change_row(enterprise)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([header for _name, header in imports.FIELDS])
    sheet.append(
        [
            row["external_id"],
            "变更",
            "一网通办",
            "2023-05-08 09:30",
            "",
            enterprise.uscc,
            "陈大文",
            4.40115198808081e17,
            "13812345678",
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = run(authority, clerk, SimpleUploadedFile("n.xlsx", buffer.getvalue()))
    assert job.result["rejected"] is True
    assert "文本" in job.result["errors"][0]["message"]


def test_template_has_every_header(authority, clerk):
    sheet = load_workbook(io.BytesIO(imports.build_template())).worksheets[0]
    assert [c.value for c in sheet[1]] == [header for _name, header in imports.FIELDS]


# --- pages ----------------------------------------------------------------------------------------------


def test_upload_page_runs_the_import_and_shows_the_outcome(
    authority, clerk, client_for, enterprise, celery_eager, django_capture_on_commit_callbacks
):
    client = client_for(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/registration/online-import/",
            {"file": json_upload([change_row(enterprise, applicant_phone="1")])},
        )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "未导入任何数据" in page
    assert "申请人手机" in page
    job = BackgroundJob.objects.get()
    report = client.get(f"/registration/online-import/{job.pk}/errors.xlsx")
    rows = list(load_workbook(io.BytesIO(report.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1][0] == 1 and rows[1][1] == "申请人手机"


def test_upload_of_a_bad_file_is_a_form_error(clerk, client_for):
    response = client_for(clerk).post(
        "/registration/online-import/", {"file": SimpleUploadedFile("x.txt", b"hello")}
    )
    assert response.status_code == 400
    assert "只能导入 JSON" in response.content.decode()


@pytest.mark.parametrize("role", ["manager", "archivist", "hotline_agent", "finance_officer"])
def test_only_intake_roles_may_import(role_users, client_for, role):
    client = client_for(role_users[role])
    assert client.get("/registration/online-import/").status_code == 403
    assert client.get("/registration/online-import/template/").status_code == 403


def test_a_job_of_another_authority_answers_404(other_authority, clerk, client_for, make_user):
    stranger = make_user("registration_clerk", authorities=[other_authority])
    job = BackgroundJob.objects.create(
        authority=other_authority, kind=imports.IMPORT_JOB_KIND, created_by=stranger
    )
    assert client_for(clerk).get(f"/registration/online-import/{job.pk}/").status_code == 404
