"""Plain text: the one rule for every text a person types, public or staff.

Some characters change how text looks without being seen: control codes (a terminal or a
spreadsheet may act on ESC or BEL), bidirectional controls (U+202E shows "gpj.exe" as
"exe.jpg") and zero-width characters (two names that look the same but differ). None has a
place in a name, a meeting point or a note, so every text box refuses them:

- forms get the rule from `PlainTextForm`, as a base class or mixin, for every text field;
- the admin gets it from `PlainTextAdmin`, on each model admin and inline, for every text box
  built from a model field;
- text written out where people read it (the commanders' CSV) passes through `neutralise()`,
  which covers rows stored before the rule.
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import pretty_name

# C0 and C1 control codes, less tab and the line breaks (a multi-line box may have them).
_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Bidirectional embeddings, overrides and isolates, and the direction marks: they make text
# display in an order other than the one it is stored in.
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
# Zero-width space, word joiner and byte-order mark: invisible, and nothing written needs them.
_INVISIBLE = "\u200b\u2060\ufeff"
# Zero-width non-joiner and joiner: invisible too, but Persian, Hindi, Malayalam and other
# scripts are spelt with them and emoji sequences (a family, a rainbow flag) are joined by them,
# so multi-line text keeps them. A single line (a name, a title) refuses them: there they would
# mostly make look-alikes.
_JOINERS = "\u200c\u200d"
# Tab, line breaks, and Unicode's line and paragraph separators: not in a single line.
_LINE_BREAKS = "\t\n\r\u2028\u2029"

MULTI_LINE = re.compile(f"[{_CONTROL}{_BIDI}{_INVISIBLE}]")
ONE_LINE = re.compile(f"[{_CONTROL}{_BIDI}{_INVISIBLE}{_JOINERS}{_LINE_BREAKS}]")

REPLACEMENT = "\ufffd"  # shows the reader that something was there


class PlainText:
    """A validator: refuses the characters above (tab and line breaks are allowed in
    multi-line text, and the joiners ZWNJ and ZWJ)."""

    code = "control_characters"

    def __init__(self, label: str, *, multiline: bool):
        self.label, self.multiline = label, multiline
        self.pattern = MULTI_LINE if multiline else ONE_LINE

    def __call__(self, value) -> None:
        if isinstance(value, str) and self.pattern.search(value):
            raise ValidationError(self.message(), code=self.code)

    def message(self) -> str:
        examples = "control codes" if self.multiline else "tabs, line breaks, control codes"
        return (
            f"{self.label} must not contain special characters such as {examples} or "
            "invisible formatting characters"
        )


def is_multiline(field: forms.Field) -> bool:
    return isinstance(field.widget, forms.Textarea)


def label_of(field: forms.Field, name: str = "") -> str:
    """What the error message calls the field: its noun if it has one (a question makes a poor
    subject), else its label without "(optional)"."""
    noun = getattr(field, "noun", None)
    if noun:
        return str(noun)
    label = str(field.label or pretty_name(name)).removesuffix(" (optional)")
    return "Your answer" if label.endswith("?") else label


def guard(field: forms.Field, name: str = "") -> forms.Field:
    """Add the rule to a text field (once). A password is never shown, so it is left alone:
    refusing characters there would only lock someone out."""
    if (
        isinstance(field, forms.CharField)
        and not isinstance(field.widget, forms.PasswordInput)
        and not any(isinstance(v, PlainText) for v in field.validators)
    ):
        field.validators.append(PlainText(label_of(field, name), multiline=is_multiline(field)))
    return field


class PlainTextForm:
    """Base or mixin for every form (Form or ModelForm): each text field gets the rule. Again
    before cleaning, for fields a subclass adds after this __init__."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.guard_fields()

    def full_clean(self):
        self.guard_fields()
        super().full_clean()

    def guard_fields(self) -> None:
        for name, field in self.fields.items():
            guard(field, name)


class PlainTextModelForm(PlainTextForm, forms.ModelForm):
    pass


class PlainTextAdmin:
    """Mixin for every ModelAdmin and inline: each text box built from a model field gets the
    rule, whatever form class the admin uses."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        return guard(formfield, db_field.name) if formfield is not None else None


def neutralise(value):
    """Text on its way out, with any such character replaced by U+FFFD."""
    if isinstance(value, str):
        return MULTI_LINE.sub(REPLACEMENT, value)
    return value
