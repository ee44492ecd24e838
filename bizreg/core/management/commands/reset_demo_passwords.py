"""manage.py reset_demo_passwords: give the demo users new random passwords and print them once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from bizreg.accounts.demo import DEMO_USERS, password_table, reset_demo_passwords


class Command(BaseCommand):
    help = "为演示用户重新生成随机密码并显示一次（同时解除登录锁定）"

    def add_arguments(self, parser):
        parser.add_argument(
            "usernames",
            nargs="*",
            help=f"只重置这些演示用户（默认全部：{'、'.join(u.username for u in DEMO_USERS)}）",
        )

    def handle(self, *args, usernames: list[str], **options):
        try:
            rows = reset_demo_passwords(usernames=usernames or None)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if not rows:
            raise CommandError("演示用户不存在，请先运行 manage.py seed_demo。")
        self.stdout.write("演示账号新密码（只显示这一次，请立即记下）：")
        self.stdout.write(password_table(rows))
