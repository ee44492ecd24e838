"""Excel export of the user list (managers): what the list page shows, phone numbers masked."""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from bizreg.accounts.models import User
from bizreg.core.excel import safe_cell
from bizreg.core.masking import mask_phone


def users_workbook(users: Iterable[User]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("用户与角色"))
    headers = [
        _("用户名"),
        _("姓名"),
        _("角色"),
        _("所属登记机关"),
        _("所属单位"),
        _("联系电话"),
        _("最近登录"),
        _("状态"),
    ]
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 14
    sheet.column_dimensions["C"].width = 30
    sheet.column_dimensions["D"].width = 36
    sheet.column_dimensions["G"].width = 20

    header_cells = []
    for title in headers:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    for user in users:
        sheet.append(
            [
                safe_cell(user.username),
                safe_cell(user.display_name),
                safe_cell("、".join(sorted(g.name for g in user.groups.all()))),
                safe_cell("、".join(a.name for a in user.authorities.all())),
                safe_cell(user.employer),
                mask_phone(user.phone),
                safe_cell(user.last_login) if user.last_login else _("从未登录"),
                _("启用") if user.is_active else _("停用"),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
