from html.parser import HTMLParser

import pytest

from tests.factories import login_staff, make_user


@pytest.fixture
def inspector(client):
    """An inspector of Central South (AS), logged in."""
    user = make_user("Inspectors", officer_bcu="AS")
    login_staff(client, user)
    return user


@pytest.fixture
def commander(client):
    """A commander with no BCU: all of London."""
    user = make_user("Commanders", officer_bcu="")
    login_staff(client, user)
    return user


@pytest.fixture
def superuser(client):
    user = make_user(is_superuser=True)
    login_staff(client, user)
    return user


class _FormFields(HTMLParser):
    """The name=value pairs a browser would submit from each POST form of a page."""

    def __init__(self):
        super().__init__()
        self.forms, self.fields, self.in_form = {}, {}, False
        self.select, self.textarea = None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("method", "").lower() == "post":
            self.in_form = True
            self.fields = self.forms.setdefault(a.get("id") or f"form{len(self.forms)}", {})
        if not self.in_form or not a.get("name") and tag != "option":
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields[a["name"]] = a.get("value", "on" if kind == "checkbox" else "")
        elif tag == "select":
            self.select = a["name"]
            self.fields.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in a:
            self.fields[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields[self.textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form" and self.in_form:
            self.in_form = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] += (
                data.lstrip("\n") if not self.fields[self.textarea] else data
            )


def form_fields(response, form_id: str | None = None) -> dict:
    """What the page's form would submit: the admin's change form (id <model>_form) unless
    another id is given."""
    parser = _FormFields()
    parser.feed(response.content.decode())
    if form_id is None:
        form_id = next(f for f in parser.forms if f.endswith("_form") and f != "logout-form")
    return parser.forms[form_id]
