"""The shapes of the debrief and of a concern action. Policy lives in the services."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError

from bookings.models import Booking
from concerns.identifying import names_someone
from concerns.models import WALK_INS_MAX, Concern, ConcernAction, ConcernStatus
from concerns.services import (
    DESCRIPTION_MAX,
    LONDON_LAT,
    LONDON_LNG,
    NOTE_MAX,
    NewConcern,
    in_london,
)
from walkandtalk.forms import ChoiceButtons, LengthCheckedCharField, StyledForm
from walkandtalk.text import PlainTextModelForm

MAX_CONCERNS_PER_DEBRIEF = 20
MAY_NAME_SOMEONE = (
    "This looks like it may name a person. Concerns must not identify anyone. Edit it, or "
    "confirm it does not name a person."
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
                widget=ChoiceButtons,
                error_messages={"required": f"Choose whether {booking.full_name} came"},
            )
            if booking.status in (Booking.Status.ATTENDED, Booking.Status.NO_SHOW):
                self.initial.setdefault(f"booking_{booking.pk}", booking.status)

    def attendance(self) -> dict[int, str]:
        return {b.pk: self.cleaned_data[f"booking_{b.pk}"] for b in self.bookings}


class WalkInsForm(StyledForm):
    """How many women joined the walk without booking: a number, nobody named."""

    walk_ins = forms.IntegerField(
        label="How many women joined without booking?",
        help_text="A number only, 0 if nobody did. Do not write down who they are.",
        required=False,  # blank is nobody
        min_value=0,
        max_value=WALK_INS_MAX,
        # GOV.UK's advice for whole numbers: a text box with a numeric keypad.
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "class": "form-control w-25"}
        ),
        error_messages={
            "invalid": "Enter how many women joined without booking as a number, like 2",
            "min_value": "The number of women who joined without booking cannot be below 0",
            "max_value": f"The number of women who joined without booking must be "
            f"{WALK_INS_MAX} or fewer",
        },
    )

    def clean_walk_ins(self) -> int:
        return self.cleaned_data["walk_ins"] or 0


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


class TimesUnsafeField(forms.MultipleChoiceField):
    """When it feels unsafe: a box for each time of day, as many as she says (GOV.UK's
    checkboxes: a fieldset, its legend and hint). Its value is a list of TimeOfDay codes; a
    stored mask (Concern.times_unsafe, as a model form's initial value) shows as its boxes."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "When does it feel unsafe?")
        kwargs.setdefault("help_text", "Select all that apply.")
        kwargs.setdefault("error_messages", {"required": "Choose when it feels unsafe"})
        super().__init__(choices=Concern.TimeOfDay.choices, **kwargs)

    def prepare_value(self, value):
        return Concern.times_of(value) if isinstance(value, int) else value

    def has_changed(self, initial, data):
        return super().has_changed(self.prepare_value(initial), data)


def confirm_names_nobody_field() -> forms.BooleanField:
    return forms.BooleanField(
        label="I have checked: this concern does not name or identify a person",
        required=False,
    )


class ConcernChecks:
    """What every form that writes a concern checks, worded once (the debrief's concerns and
    the admin's concern form): free text that looks as if it names someone is held back
    until it is edited or she confirms it does not (the form's `confirm_names_nobody`), and
    a position is given whole and inside Greater London."""

    FREE_TEXT = ("location_text", "description")
    name_warning = False

    @property
    def asks_to_confirm(self) -> bool:
        """Show the confirmation box: the text was flagged, or she has already ticked it."""
        return self.name_warning or bool(self["confirm_names_nobody"].value())

    def check_concern(self, data: dict) -> None:
        if not data.get("confirm_names_nobody"):
            # Only text written now: a concern edited in the admin is not flagged again for
            # words it already had.
            for name in self.FREE_TEXT:
                if name in self.changed_data and name in data and names_someone(data[name]):
                    self.add_error(name, MAY_NAME_SOMEONE)
                    self.name_warning = True
        lat, lng = data.get("lat"), data.get("lng")
        if "lat" in self.errors or "lng" in self.errors:
            return
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


class ConcernForm(ConcernChecks, StyledForm):
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
    times_unsafe = TimesUnsafeField()
    description = LengthCheckedCharField(
        noun="The description",
        label="What makes it feel unsafe?",
        max_chars=DESCRIPTION_MAX,
        help_text=f"Up to {DESCRIPTION_MAX:,} characters.",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Describe what makes it feel unsafe"},
    )
    # Offered once the text looks as if it names someone (names_someone); see asks_to_confirm.
    confirm_names_nobody = confirm_names_nobody_field()

    def clean(self):
        data = super().clean()
        self.check_concern(data)
        return data

    def new_concern(self) -> NewConcern:
        data = self.cleaned_data
        return NewConcern(
            category=data["category"],
            location_text=data["location_text"],
            times_unsafe=tuple(data["times_unsafe"]),
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
