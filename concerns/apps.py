from django.apps import AppConfig


class ConcernsConfig(AppConfig):
    name = "concerns"

    def ready(self):
        from . import messages, metrics, rollup

        messages.register()
        metrics.register()
        rollup.register()
