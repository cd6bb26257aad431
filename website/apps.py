from django.apps import AppConfig


class WebsiteConfig(AppConfig):
    """The public site: no account, and nothing on it tells one woman about another."""

    name = "website"

    def ready(self):
        from . import pagecache

        pagecache.connect_signals()
