"""The shapes of the debrief, the survey and a concern action. Policy lives in services."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField

from bookings.models import Booking
from walkandtalk.text import PlainTextForm, PlainTextModelForm

from .models import SCALE, Concern, ConcernAction, ConcernStatus
from .services import (
    DESCRIPTION_MAX,
    LONDON_LAT,
    LONDON_LNG,
    NOTE_MAX,
    NewConcern,
    SurveyAnswers,
    in_london,
)

MAX_CONCERNS_PER_DEBRIEF = 20


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


# --- The debrief ----------------------------------------------------------------------------


class AttendanceForm(StyledForm):
    """One pair of radios per woman on the list: came, or did not come."""

    CHOICES = [(Booking.Status.ATTENDED, "Came"), (Booking.Status.NO_SHOW, "Did not come")]

    def __init__(self, *args, bookings, **kwargs):
        super().__init__(*args, **kwargs)
        self.bookings = list(bookings)
        for booking in self.bookings:
            self.fields[f"booking_{booking.pk}"] = forms.ChoiceField(
                label=booking.full_name,
                choices=self.CHOICES,
                widget=forms.RadioSelect(attrs={"class": "btn-check"}),
                error_messages={"required": f"Choose whether {booking.full_name} came"},
            )
            if booking.status in (Booking.Status.ATTENDED, Booking.Status.NO_SHOW):
                self.initial.setdefault(f"booking_{booking.pk}", booking.status)

    def rows(self):
        """(booking, bound field) pairs for the template."""
        return [(booking, self[f"booking_{booking.pk}"]) for booking in self.bookings]

    def attendance(self) -> dict[int, str]:
        return {b.pk: self.cleaned_data[f"booking_{b.pk}"] for b in self.bookings}


def category_choices():
    labels = dict(Concern.Category.choices)
    return [
        ("", "Choose a category"),
        ("The place", [(value, labels[value]) for value in Concern.ENVIRONMENTAL]),
        ("Behaviour", [(value, labels[value]) for value in Concern.BEHAVIOURAL]),
        (Concern.Category.OTHER, labels[Concern.Category.OTHER]),
    ]


class CoordinateField(forms.CharField):
    """A latitude or longitude typed on a phone: a plain decimal, kept to six places (about
    10 cm, which is more than a phone knows)."""

    def __init__(self, *, noun: str, example: str, **kwargs):
        self.noun, self.example = noun, example
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value).replace(" ", "")
        if not value:
            return None
        try:
            number = Decimal(value) if len(value) <= 20 else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number) > 1000:
            raise ValidationError(
                f"Enter the {self.noun} as a number, like {self.example}", code="invalid"
            )
        return number.quantize(Decimal("0.000001"))


class ConcernForm(StyledForm):
    category = forms.ChoiceField(
        label="What is the concern about?",
        choices=category_choices,
        error_messages={"required": "Choose what the concern is about"},
    )
    location_text = LengthCheckedCharField(
        noun="Where it is",
        label="Where is it?",
        max_chars=200,
        help_text="A street, a landmark or a stretch of path, like “the underpass by "
        "Brixton station”.",
        error_messages={"required": "Enter where the concern is"},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    lat = CoordinateField(label="Latitude", noun="latitude", example="51.4613")
    lng = CoordinateField(label="Longitude", noun="longitude", example="-0.1156")
    times_unsafe = forms.ChoiceField(
        label="When does it feel unsafe?",
        choices=Concern.TimeOfDay.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose when it feels unsafe"},
    )
    description = LengthCheckedCharField(
        noun="The description",
        label="What makes it feel unsafe?",
        max_chars=DESCRIPTION_MAX,
        help_text=f"Up to {DESCRIPTION_MAX:,} characters.",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Describe what makes it feel unsafe"},
    )

    def clean(self):
        data = super().clean()
        lat, lng = data.get("lat"), data.get("lng")
        if "lat" in self.errors or "lng" in self.errors:
            return data
        if (lat is None) != (lng is None):
            missing = "lng" if lng is None else "lat"
            self.add_error(missing, "Enter both the latitude and the longitude, or neither")
        elif lat is not None and not in_london(lat, lng):
            outside = "lat" if not LONDON_LAT[0] <= lat <= LONDON_LAT[1] else "lng"
            self.add_error(
                outside,
                "The position must be in Greater London: latitude between "
                f"{LONDON_LAT[0]} and {LONDON_LAT[1]}, longitude between {LONDON_LNG[0]} and "
                f"{LONDON_LNG[1]}",
            )
        return data

    def new_concern(self) -> NewConcern:
        data = self.cleaned_data
        return NewConcern(
            category=data["category"],
            location_text=data["location_text"],
            times_unsafe=data["times_unsafe"],
            description=data["description"],
            lat=data["lat"],
            lng=data["lng"],
        )


class BaseConcernFormSet(forms.BaseFormSet):
    def new_concerns(self) -> list[NewConcern]:
        """The concerns filled in; blank ones (an unused "add another") are left out."""
        return [
            form.new_concern() for form in self.forms if form.has_changed() and form.cleaned_data
        ]


ConcernFormSet = forms.formset_factory(
    ConcernForm,
    formset=BaseConcernFormSet,
    extra=0,
    max_num=MAX_CONCERNS_PER_DEBRIEF,
    absolute_max=MAX_CONCERNS_PER_DEBRIEF,
    validate_max=True,
)


# --- The survey -----------------------------------------------------------------------------

SAFE_LABELS = ["Very unsafe", "Quite unsafe", "Neither safe nor unsafe", "Quite safe", "Very safe"]
CONFIDENCE_LABELS = [
    "No confidence",
    "Not much confidence",
    "Some confidence",
    "Quite a lot of confidence",
    "Complete confidence",
]


def scale(labels: list[str]):
    return [(n, f"{n}: {label}") for (n, _), label in zip(SCALE, labels, strict=True)]


def scale_field(label: str, labels: list[str], required: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=scale(labels),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": required},
    )


class FeedbackForm(StyledForm):
    felt_safe_before = scale_field(
        "Before the walk, how safe did you feel in that area?",
        SAFE_LABELS,
        "Choose how safe you felt before the walk",
    )
    felt_safe_after = scale_field(
        "Now, after the walk, how safe do you feel in that area?",
        SAFE_LABELS,
        "Choose how safe you feel after the walk",
    )
    confidence_in_police_before = scale_field(
        "Before the walk, how much confidence did you have in your local police?",
        CONFIDENCE_LABELS,
        "Choose how much confidence you had before the walk",
    )
    confidence_in_police_after = scale_field(
        "Now, how much confidence do you have in your local police?",
        CONFIDENCE_LABELS,
        "Choose how much confidence you have now",
    )
    comments = LengthCheckedCharField(
        noun="Your comments",
        label="Is there anything else you would like the police to know? (optional)",
        required=False,
        max_chars=2000,
        help_text="Please do not include anyone’s name. This is not a way to report a crime.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    wants_updates = forms.BooleanField(
        label="Email me about what is done about the concerns raised on my walk",
        required=False,
    )

    def answers(self) -> SurveyAnswers:
        return SurveyAnswers(**self.cleaned_data)


# --- Actions, in the admin ------------------------------------------------------------------


class ConcernActionForm(PlainTextModelForm):
    """A new entry in a concern's history. record_action() saves it and moves the status."""

    class Meta:
        model = ConcernAction
        fields = ["note", "status", "partner"]
        help_texts = {
            "note": "What was done. When the concern is actioned this note is published on the "
            "public “You said, we did” page and emailed to women from the walk who asked to "
            "hear: no names.",
            "status": "The concern's status after this action.",
        }

    def clean_note(self):
        note = self.cleaned_data["note"].strip()
        if len(note) > NOTE_MAX:
            raise ValidationError(f"The note must be {NOTE_MAX:,} characters or fewer")
        return note

    def clean(self):
        data = super().clean()
        if data.get("status") == ConcernStatus.REFERRED and not data.get("partner"):
            self.add_error("partner", "Say which partner it was referred to")
        return data
