"""Form parts shared by the public forms and the staff pages: the GOV.UK error summary's links,
Bootstrap's classes on every widget, and a length check whose message says how long it is."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField

from walkandtalk.text import PlainTextForm


def error_links(form: forms.BaseForm, prefix: str = "") -> list[tuple[str, str]]:
    """(anchor id, message) for each error on a form, for the GOV.UK error summary. A group of
    radios is linked by its first radio, as GOV.UK does."""
    links = [("", f"{prefix}{message}") for message in form.non_field_errors()]
    for name in form.fields:  # in the order of the page, not the order they were found
        field = form[name]
        anchor = field.auto_id
        if isinstance(field.field.widget, forms.RadioSelect):
            anchor = f"{anchor}_0"
        links += [(anchor, f"{prefix}{message}") for message in form.errors.get(name, [])]
    return links


class StyledBoundField(BoundField):
    """Bootstrap's classes on every widget, and its invalid style on a field with an error."""

    CLASSES = {
        forms.Select: "form-select",
        forms.RadioSelect: "form-check-input",
        forms.CheckboxInput: "form-check-input",
    }

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        css = [widget.attrs.get("class") or self.CLASSES.get(type(widget), "form-control")]
        if self.form.is_bound and self.errors:
            css.append("is-invalid")
        attrs["class"] = " ".join(c for c in css if c)
        return attrs


class StyledForm(PlainTextForm, forms.Form):
    bound_field_class = StyledBoundField


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
