from django.apps import AppConfig


class ConsultationConfig(AppConfig):
    name = "bizreg.consultation"
    label = "consultation"
    verbose_name = "咨询服务"

    def ready(self) -> None:
        from django.core import checks

        from bizreg.consultation.answering.rerank import check_reranker

        checks.register(check_reranker)
