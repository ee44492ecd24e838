"""Demo accounts: one user per role of bizreg.accounts.roles, plus an `admin` superuser.

Passwords are random and strong; they are printed once, when the users are created. Later runs of
seed_demo say the users exist; `manage.py reset_demo_passwords` sets and prints new ones.
"""

from __future__ import annotations

import secrets
import string
import unicodedata
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from bizreg.accounts.roles import ROLE_BY_CODE, ROLES
from bizreg.core.demo import DemoContext, register_seeder


@dataclass(frozen=True)
class DemoUser:
    username: str
    role_code: str | None  # None: the superuser
    display_name: str
    employer: str = ""


DIGITIZATION_CONTRACTOR = "广州穗档数字科技服务有限公司"
# The hotline (电话咨询服务项目) is a purchased service: the contractor's agents staff its five lines.
HOTLINE_CONTRACTOR = "广州南粤呼叫中心服务有限公司"

DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("clerk", "registration_clerk", "陈晓敏"),
    DemoUser("archivist", "archivist", "黄嘉欣"),
    DemoUser("digitizer", "digitization_operator", "李志强", employer=DIGITIZATION_CONTRACTOR),
    DemoUser("agent", "hotline_agent", "梁静怡"),
    DemoUser("agent2", "hotline_agent", "邓嘉怡", employer=HOTLINE_CONTRACTOR),
    DemoUser("agent3", "hotline_agent", "麦伟健", employer=HOTLINE_CONTRACTOR),
    DemoUser("agent4", "hotline_agent", "卢晓彤", employer=HOTLINE_CONTRACTOR),
    DemoUser("agent5", "hotline_agent", "区志豪", employer=HOTLINE_CONTRACTOR),
    DemoUser("investigator", "investigator", "张伟明"),
    DemoUser("officer", "enterprise_officer", "何家豪"),
    DemoUser("officer2", "enterprise_officer", "苏慧琳"),
    DemoUser("finance", "finance_officer", "吴丽华"),
    DemoUser("manager", "manager", "刘建国"),
    DemoUser("dept", "department_viewer", "罗美玲"),
    DemoUser("dept2", "department_viewer", "郑国栋"),
    DemoUser("admin", None, "系统管理员"),
)
DEMO_USER_BY_NAME = {u.username: u for u in DEMO_USERS}

# The registration window (商事登记辅助项目) is a team: a district-year's 65,000 cases and 156,000 entry and
# guidance records are not one person's work. Only `clerk` signs in to the demo; the colleagues' accounts
# exist so that the year's work is spread over the people who did it (and the lists' 收件人/工作人员 filters
# mean something). They have no usable password; an administrator can give one in the Django admin.
WINDOW_COLLEAGUES: tuple[DemoUser, ...] = tuple(
    DemoUser(f"clerk{n}", "registration_clerk", name)
    for n, name in enumerate(
        [
            "黄志坚",
            "梁嘉敏",
            "何婉婷",
            "冯子健",
            "谭美仪",
            "陆俊豪",
            "钟丽萍",
            "罗家乐",
            "叶晓琳",
            "邓伟权",
            "麦淑仪",
            "曾凯文",
            "岑雅诗",
            "郭振华",
            "潘颖欣",
            "谢永康",
            "杜佩珊",
            "胡锦荣",
            "温丽娟",
        ],
        start=2,
    )
)

_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI") + "!@#%^*-_+="


def generate_password(length: int = 16) -> str:
    """A random password with upper, lower, digit and symbol, which passes the project's validators."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if (
            any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
            and any(not c.isalnum() for c in password)
        ):
            return password


def _role_label(demo: DemoUser) -> str:
    return ROLE_BY_CODE[demo.role_code].name if demo.role_code else "系统管理员（超级用户）"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def password_table(rows: list[tuple[str, str, str]]) -> str:
    """(username, role, password) rows as an aligned console table (CJK characters count double)."""
    header = ("用户名", "角色", "密码")
    widths = [max(_width(r[i]) for r in [header, *rows]) + 2 for i in range(3)]
    line = "-" * sum(widths)
    out = [line, "".join(_pad(h, w) for h, w in zip(header, widths, strict=True)), line]
    out += ["".join(_pad(c, w) for c, w in zip(r, widths, strict=True)) for r in rows]
    out.append(line)
    return "\n".join(out)


def _ensure_demo_user(demo: DemoUser, authority) -> tuple[object, str | None]:
    """Create the demo user if missing (returns its new password) or bring its role/authority in line."""
    User = get_user_model()
    user = User.objects.filter(username=demo.username).first()
    password = None
    if user is None:
        user = User(
            username=demo.username,
            display_name=demo.display_name,
            employer=demo.employer,
            is_staff=demo.role_code is None,
            is_superuser=demo.role_code is None,
        )
        password = generate_password()
        validate_password(password, user)
        user.set_password(password)
        user.save()
    user.authorities.add(authority)
    if demo.role_code:
        user.groups.add(Group.objects.get(name=ROLE_BY_CODE[demo.role_code].name))
    return user, password


@register_seeder("accounts.demo_users")
def seed_demo_users(ctx: DemoContext) -> int:
    missing_roles = [r.code for r in ROLES if r.code not in {u.role_code for u in DEMO_USERS}]
    if missing_roles:  # a role added to roles.py needs its demo user here
        raise ValueError(f"以下角色没有演示用户：{'、'.join(missing_roles)}")
    created, existing = ensure_demo_users(ctx, usernames=None)
    if existing:
        ctx.log(f"  演示用户已存在，未改动密码：{'、'.join(existing)}")
    return len(created)


def ensure_demo_users(ctx: DemoContext, *, usernames: list[str] | None) -> tuple[list[str], list[str]]:
    """Create the named demo users (all when None) that are missing and print their passwords once; returns
    (created, existing) usernames. A later module's seeder calls it for users added after the demo users of
    an existing database were made."""
    created = []
    existing = []
    for demo in DEMO_USERS:
        if usernames is not None and demo.username not in usernames:
            continue
        _, password = _ensure_demo_user(demo, ctx.authority)
        if password is None:
            existing.append(demo.username)
        else:
            created.append((demo.username, _role_label(demo), password))
    if created:
        ctx.log("演示账号（密码只显示这一次，请立即记下；忘记时运行 manage.py reset_demo_passwords）：")
        ctx.log(password_table(created))
    return [row[0] for row in created], existing


@register_seeder("accounts.window_colleagues", after=("accounts.demo_users",))
def seed_window_colleagues(ctx: DemoContext) -> int:
    """The clerk's colleagues at the registration window, without a login (see WINDOW_COLLEAGUES)."""
    User = get_user_model()
    group = Group.objects.get(name=ROLE_BY_CODE["registration_clerk"].name)
    created = 0
    for demo in WINDOW_COLLEAGUES:
        user, made = User.objects.get_or_create(
            username=demo.username, defaults={"display_name": demo.display_name, "employer": demo.employer}
        )
        if made:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            created += 1
        user.authorities.add(ctx.authority)
        user.groups.add(group)
    ctx.log(f"  窗口同事 {len(WINDOW_COLLEAGUES)} 人（无登录密码，只承载演示年度的业务量）")
    return created


# Printed by seed_demo when this seeder has already run for the authority and year.
seed_demo_users.skip_message = (
    "演示用户已存在（密码只在创建时显示一次）；需要新密码时运行 manage.py reset_demo_passwords。"
)


def reset_demo_passwords(*, usernames: list[str] | None = None) -> list[tuple[str, str, str]]:
    """Give the demo users new random passwords and lift any login lockout; returns the table rows."""
    from axes.utils import reset as axes_reset

    User = get_user_model()
    wanted = usernames or [u.username for u in DEMO_USERS]
    unknown = [n for n in wanted if n not in DEMO_USER_BY_NAME]
    if unknown:
        raise ValueError(f"不是演示用户：{'、'.join(unknown)}（演示用户：{'、'.join(DEMO_USER_BY_NAME)}）")
    rows = []
    with transaction.atomic():
        for user in User.objects.filter(username__in=wanted).order_by("pk"):
            demo = DEMO_USER_BY_NAME[user.username]
            password = generate_password()
            validate_password(password, user)
            user.set_password(password)
            user.save(update_fields=["password"])
            axes_reset(username=user.username)
            rows.append((user.username, _role_label(demo), password))
    order = [u.username for u in DEMO_USERS]
    rows.sort(key=lambda r: order.index(r[0]))
    return rows
