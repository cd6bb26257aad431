from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# The links of the layout (base.html) on every page, by URL name; the template reads them as
# links.<name without its namespace>.
LAYOUT_LINKS = (
    "website:home",
    "website:about",
    "website:what_to_expect",
    "website:help",
    "website:privacy",
    "website:accessibility",
    "website:walk_list",
    "website:request_walk",
)


@lru_cache(maxsize=8)
def layout_links(urlconf: str, prefix: str) -> dict[str, str]:
    """Reversed once per URLconf and script prefix rather than on every page: reversing was
    most of the layout's rendering time (docs/benchmarks.md)."""
    return {name.rpartition(":")[2]: reverse(name, urlconf=urlconf) for name in LAYOUT_LINKS}


def site(request):
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return {"exit_url": settings.EXIT_URL, "links": layout_links(urlconf, get_script_prefix())}
