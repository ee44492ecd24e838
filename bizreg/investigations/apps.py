from django.apps import AppConfig


class InvestigationsConfig(AppConfig):
    name = "bizreg.investigations"
    label = "investigations"
    verbose_name = "冒用身份调查"

    def ready(self) -> None:
        # Registration intake refuses a person on the 3-year list (条例 art. 40) through core's registry,
        # so registration never imports this app.
        from bizreg.core import intake_checks
        from bizreg.investigations.services.bans import banned_people_check

        intake_checks.register("investigations.registration_ban", banned_people_check)
