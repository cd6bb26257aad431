"""Form parts shared by the public forms, the staff pages and the admin's own pages: the one
GOV.UK layout, rendered by django-crispy-forms. A page shows a form's error summary with
`{{ form|as_crispy_errors }}` and each field with `{{ form.field|as_crispy_field }}`; the
project's templates/bootstrap5/ (errors.html, field.html and its two parts in layout/) override
the bootstrap5 pack's, so every form has the same label, hint, error message and summary. The
forms below give those templates Bootstrap's classes on every widget and the summary's links;
Django ties each control to its hint and its error (aria-describedby) and marks it invalid
(aria-invalid). Also: a length check whose message says how long it is."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField

from walkandtalk.text import PlainTextForm


def error_links(form: forms.BaseForm, prefix: str = "") -> list[tuple[str, str]]:
    """(anchor id, message) for each error on a form, for the GOV.UK error summary. A group of
    radios or boxes is linked by its first one, as GOV.UK does."""
    links = [("", f"{prefix}{message}") for message in form.non_field_errors()]
    for name in form.fields:  # in the order of the page, not the order they were found
        field = form[name]
        anchor = f"{field.auto_id}_0" if field.use_fieldset else field.auto_id
        links += [(anchor, f"{prefix}{message}") for message in form.errors.get(name, [])]
    return links


class ErrorSummary:
    """The one error summary of a page with several forms (the debrief): their links in the
    order of the page. `{{ summary|as_crispy_errors }}` renders it as it renders one form's."""

    def __init__(self, links: list[tuple[str, str]]):
        self.error_links = links

    def __bool__(self) -> bool:
        return bool(self.error_links)


class ChoiceButtons(forms.RadioSelect):
    """Radios shown as a row of large buttons, easy to hit on a phone (templates/bootstrap5/
    field.html draws them so when it sees this widget)."""

    def __init__(self, attrs=None, choices=()):
        super().__init__({"class": "btn-check", **(attrs or {})}, choices)


class StyledBoundField(BoundField):
    """Bootstrap's classes on every widget, and its invalid style on a field with an error."""

    CLASSES = [
        (forms.RadioSelect, "form-check-input"),  # CheckboxSelectMultiple too: a subclass
        (forms.CheckboxInput, "form-check-input"),
        (forms.Select, "form-select"),
    ]

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        default = next((css for kind, css in self.CLASSES if isinstance(widget, kind)), None)
        css = [widget.attrs.get("class") or default or "form-control"]
        if self.form.is_bound and self.errors:
            css.append("is-invalid")
        attrs["class"] = " ".join(c for c in css if c)
        return attrs


class StyledForm(PlainTextForm, forms.Form):
    """Every form drawn in the GOV.UK layout: the rule on text (walkandtalk.text), Bootstrap's
    classes, and the error summary's links (`form.error_links`, read by
    templates/bootstrap5/errors.html)."""

    bound_field_class = StyledBoundField

    def error_links(self) -> list[tuple[str, str]]:
        return error_links(self)


class LengthCheckedCharField(forms.CharField):
    """A CharField whose "too long" message says how long it is. No maxlength attribute: a
    browser would cut pasted text off without a word; an error that says how much to cut is
    kinder (GOV.UK's advice)."""

    def __init__(self, *, noun: str, max_chars: int, **kwargs):
        self.noun, self.max_chars = noun, max_chars
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if len(value) > self.max_chars:
            raise ValidationError(
                f"{self.noun} must be {self.max_chars:,} characters or fewer "
                f"(it is {len(value):,})",
                code="max_length",
            )
