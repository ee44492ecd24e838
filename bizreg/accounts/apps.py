from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "bizreg.accounts"
    label = "accounts"
    verbose_name = "用户与角色"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        # Django's own receiver saves the user, which would add a history row per sign-in and bury the
        # real changes (roles, authorities) in the user's audit trail; last_login is not audited.
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(_update_last_login, dispatch_uid="bizreg_update_last_login")


def _update_last_login(sender, user, **kwargs) -> None:
    from django.utils import timezone

    user.last_login = timezone.now()
    type(user).objects.filter(pk=user.pk).update(last_login=user.last_login)
