from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"

    def ready(self):
        from concerns.signals import demo_seeded

        from . import demo, messages

        messages.register()
        demo_seeded.connect(demo.seed_demo_partners, dispatch_uid="partners.demo")
