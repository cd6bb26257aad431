"""The public forms. They check shape only (lengths, formats, required boxes); the services
check policy (is the walk bookable, is a place left)."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from bookings.models import Channel
from bookings.services import uk_mobile
from concerns.models import SCALE
from concerns.services import SurveyAnswers
from patrols.models import Borough
from walkandtalk.forms import LengthCheckedCharField, StyledForm
from walkandtalk.sms import texts_enabled
from walkandtalk.text import ONE_LINE

PHONE = re.compile(r"^\+?[0-9 ()\-]+$")
CHECKED, UNCHECKED = {"on", "true", "1"}, {"", "off", "false", "0"}


class PublicForm(StyledForm):
    """Every public form, in the GOV.UK layout (walkandtalk.forms): special characters are
    refused in every text field (the rule is walkandtalk.text's); multi-line text may have line
    breaks, stored as \\n."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        for name, value in cleaned.items():
            if isinstance(value, str):
                cleaned[name] = value.replace("\r\n", "\n").replace("\r", "\n")
        return cleaned


def text(label: str, *, max_length: int, required: bool = True, help_text: str = "", **attrs):
    noun = label[0].lower() + label[1:]
    return forms.CharField(
        label=label if required else f"{label} (optional)",
        max_length=max_length,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(attrs={"class": "form-control", **attrs}),
        error_messages={
            "required": f"Enter your {noun}",
            "max_length": f"{label} must be {max_length} characters or fewer",
        },
    )


def long_text(
    label: str, *, max_length: int, required: bool = False, help_text: str = "", missing=""
):
    return forms.CharField(
        label=label if required else f"{label} (optional)",
        max_length=max_length,
        required=required,
        help_text=help_text,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
        error_messages={
            "required": missing,
            "max_length": f"{label} must be {max_length} characters or fewer",
        },
    )


def email_field(help_text: str):
    return forms.EmailField(
        label="Email address",
        max_length=254,
        help_text=help_text,
        widget=forms.EmailInput(
            attrs={"class": "form-control", "autocomplete": "email", "spellcheck": "false"}
        ),
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
            "max_length": "Email address must be 254 characters or fewer",
        },
    )


class CheckboxInput(forms.CheckboxInput):
    """Hands the field what was sent, so the field can tell "on" from nonsense."""

    def __init__(self, attrs=None):
        super().__init__(attrs, check_test=lambda value: str(value).lower() in CHECKED)

    def value_from_datadict(self, data, files, name):
        return data.get(name, "")


class CheckboxField(forms.BooleanField):
    """A checkbox that accepts what a checkbox sends ("on"), or nothing; anything else is
    refused rather than read as "yes"."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in CHECKED | UNCHECKED:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            value = value in CHECKED
        return super().to_python(value)


def checkbox(label: str, *, required: bool = False, missing: str = "", help_text: str = ""):
    return CheckboxField(
        label=label,
        required=required,
        help_text=help_text,
        widget=CheckboxInput(attrs={"class": "form-check-input"}),
        error_messages={
            "required": missing,
            "invalid": f"Tick or untick “{label}”",
        },
    )


class ContactFields(PublicForm):
    """Who she is and how to reach her: the same on the booking and the request forms."""

    full_name = text("Full name", max_length=100, autocomplete="name", spellcheck="false")
    email = email_field("We send the details here, with a private link to change or cancel.")
    phone = text(
        "Phone number",
        max_length=32,
        required=False,
        help_text="Only used if the walk has to change at short notice.",
        type="tel",
        autocomplete="tel",
    )
    accessibility_needs = long_text(
        "Anything we can do to make the walk work for you",
        max_length=1000,
        help_text="For example, if you use a wheelchair or walking aid, need to walk slowly, "
        "or would like a British Sign Language interpreter.",
    )
    discreet_emails = checkbox(
        "Send me discreet emails",
        help_text="The sender, subject and calendar entry will not mention the police. "
        "Useful if someone else might see your emails.",
    )
    age_confirmed = checkbox(
        "I am 18 or over", required=True, missing="Confirm that you are 18 or over"
    )
    privacy_accepted = checkbox(
        "I have read how my information is used",
        required=True,
        missing="Confirm that you have read how your information is used",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["privacy_accepted"].label = format_html(
            'I have read <a href="{}" target="_blank" rel="noopener">how my information is '
            "used (opens in a new tab)</a>",
            reverse("website:privacy"),
        )

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"]
        digits = re.sub(r"\D", "", phone)
        if phone and (not PHONE.match(phone) or not 7 <= len(digits) <= 15):
            raise ValidationError(
                "Enter a phone number, like 07700 900 982 or +44 7700 900 982", code="invalid"
            )
        return phone


def reminder_channel_field():
    return forms.ChoiceField(
        label="How should we send your reminders?",
        choices=[
            (Channel.EMAIL, "By email"),
            (Channel.SMS, "By text message to my mobile"),
        ],
        initial=Channel.EMAIL,
        required=False,
        help_text="Reminders before the walk, and news if it changes or a place comes up. "
        "Your confirmation and your private link always come by email.",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose email or text message for your reminders"},
    )


class ReminderChannelMixin:
    """Her choice of email or texts, and the UK mobile texts need (normalised to E.164 by
    bookings.services.uk_mobile, the one rule). The choice is offered only while texts are on
    (walkandtalk.sms.texts_enabled)."""

    def offer_texts(self) -> None:
        if not texts_enabled():
            del self.fields["reminder_channel"]

    def clean(self):
        cleaned = super().clean()
        channel = cleaned.get("reminder_channel") or Channel.EMAIL
        cleaned["reminder_channel"] = channel
        if channel == Channel.SMS and "phone" not in self.errors:
            try:
                cleaned["phone"] = uk_mobile(cleaned.get("phone", ""))
            except ValidationError as error:
                self.add_error("phone", error)
        return cleaned


class ContactWithTexts(ReminderChannelMixin, ContactFields):
    """Her details and, while texts are on, how her reminders reach her: the booking form's
    and the route request's (a request's choice carries to the walk made from it)."""

    reminder_channel = reminder_channel_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.offer_texts()
        if "reminder_channel" in self.fields:
            self.fields["phone"].help_text = (
                "Only used if the walk has to change at short notice, or for your reminders "
                "if you choose texts (a UK mobile)."
            )


class BookingForm(ContactWithTexts):
    topics = long_text(
        "Anything you would like to talk about or show the officers",
        max_length=1000,
        help_text="For example, a route you use or a place that worries you. "
        "Please do not include other people's names.",
    )

    field_order = [
        "full_name",
        "email",
        "phone",
        "reminder_channel",
        "topics",
        "accessibility_needs",
        "discreet_emails",
        "age_confirmed",
        "privacy_accepted",
    ]

    def booking_fields(self) -> dict:
        """The arguments of book_place."""
        return {
            name: self.cleaned_data[name]
            for name in (
                "full_name",
                "email",
                "phone",
                "accessibility_needs",
                "topics",
                "discreet_emails",
                "reminder_channel",
            )
        }


class ReminderChannelForm(ReminderChannelMixin, PublicForm):
    """Her manage page: change how her reminders reach her."""

    reminder_channel = reminder_channel_field()
    phone = text(
        "UK mobile number",
        max_length=32,
        required=False,
        help_text="Only needed for text messages.",
        type="tel",
        autocomplete="tel",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.offer_texts()


class BoroughChoiceField(forms.ModelChoiceField):
    """A borough by its slug (what the form sends), or by its id."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value)
        # Checked before the database sees it: PostgreSQL refuses NUL in a query.
        if ONE_LINE.search(value) or len(value) > 100:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        key = "pk" if value.isascii() and value.isdigit() and len(value) < 19 else "slug"
        try:
            return self.queryset.get(**{key: value})
        except (ValueError, TypeError, self.queryset.model.DoesNotExist):
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None

    def label_from_instance(self, obj) -> str:
        return obj.name


class WalkRequestForm(ContactWithTexts):
    borough = BoroughChoiceField(
        label="Borough",
        queryset=Borough.objects.all(),
        to_field_name="slug",
        empty_label="Choose a borough",
        help_text="Where the route is. The officers who walk it will be from this area.",
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={
            "required": "Choose the borough the route is in",
            "invalid_choice": "Choose a borough from the list",
        },
    )
    route_description = long_text(
        "The route or area",
        max_length=2000,
        required=True,
        missing="Describe the route or area you would like to walk",
        help_text="For example, from the station along the high street, then the path by the "
        "park. Do not give your home address: the officers will agree a place to meet with you.",
    )
    preferred_times = long_text(
        "Days and times that suit you",
        max_length=500,
        required=True,
        missing="Tell us which days and times suit you",
        help_text="For example, weekday evenings after 7pm, when you usually walk it.",
    )

    field_order = [
        "borough",
        "route_description",
        "preferred_times",
        "full_name",
        "email",
        "phone",
        "reminder_channel",
        "accessibility_needs",
        "discreet_emails",
        "age_confirmed",
        "privacy_accepted",
    ]

    def request_fields(self) -> dict:
        """The arguments of request_walk."""
        return {
            name: self.cleaned_data[name]
            for name in (
                "borough",
                "full_name",
                "email",
                "phone",
                "route_description",
                "preferred_times",
                "accessibility_needs",
                "discreet_emails",
                "reminder_channel",
            )
        }


class LostLinkForm(PublicForm):
    email = email_field("The address you booked with.")


# "near": a latitude and a longitude, each with at most 2 decimal places (about 1 km): the
# browser rounds them before they leave it (static/js/walks_near.js).
NEAR_ERROR = "We could not read your position. Try again, or choose a borough"
NEAR = re.compile(r"^(-?\d{1,3}(?:\.\d{1,2})?),(-?\d{1,3}(?:\.\d{1,2})?)$")


class WalkFilterForm(PublicForm):
    """The walk list's filters: `borough` (slug), `bcu` (code), `from` (a day, YYYY-MM-DD)
    and `near` (LAT,LNG, to sort by distance), all optional. The choices come from one query
    of the boroughs with their BCUs."""

    borough = forms.ChoiceField(
        label="Borough",
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": "Choose a borough from the list"},
    )
    bcu = forms.ChoiceField(
        label="Police area (BCU)",
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": "Choose a police area from the list"},
    )

    near = forms.CharField(
        required=False,
        max_length=20,
        widget=forms.HiddenInput,
        error_messages={"max_length": NEAR_ERROR},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword: the field is added by name.
        self.fields["from"] = forms.DateField(
            label="On or after",
            required=False,
            input_formats=["%Y-%m-%d"],
            help_text="Walks on this day or later.",
            widget=forms.DateInput(
                attrs={"class": "form-control", "type": "date"}, format="%Y-%m-%d"
            ),
            error_messages={"invalid": "Enter a real date, like 2026-06-01"},
        )
        self.order_fields(["borough", "bcu", "from", "near"])
        self.boroughs = {b.slug: b for b in Borough.objects.select_related("bcu")}
        self.bcus = {}
        for borough in self.boroughs.values():
            self.bcus.setdefault(borough.bcu.code, (borough.bcu, []))[1].append(borough.name)
        self.fields["borough"].choices = [("", "Any borough")] + [
            (slug, b.name) for slug, b in self.boroughs.items()
        ]
        self.fields["bcu"].choices = [("", "All of London")] + [
            (code, f"{bcu.name} ({', '.join(names)})")
            for code, (bcu, names) in sorted(self.bcus.items(), key=lambda item: item[1][0].name)
        ]

    def neighbours(self, borough) -> list[str]:
        """The other boroughs of the borough's BCU."""
        if borough is None:
            return []
        return [name for name in self.bcus[borough.bcu.code][1] if name != borough.name]

    def clean_near(self) -> tuple[float, float] | None:
        """(lat, lng), rounded to 2 decimal places, or None when not given."""
        value = self.cleaned_data["near"].strip()
        if not value:
            return None
        found = NEAR.match(value)
        if not found:
            raise ValidationError(NEAR_ERROR, code="invalid")
        lat, lng = float(found[1]), float(found[2])
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise ValidationError(NEAR_ERROR, code="out_of_range")
        return round(lat, 2), round(lng, 2)

    def selected(self):
        """(borough, bcu) chosen, each None when not given."""
        data = self.cleaned_data if self.is_valid() else {}
        borough = self.boroughs.get(data.get("borough", ""))
        bcu = self.bcus.get(data.get("bcu", ""), (None,))[0]
        return borough, bcu

    def from_day(self):
        """The day chosen (`from`), or None."""
        return self.cleaned_data.get("from") if self.is_valid() else None

    def position(self) -> tuple[float, float] | None:
        """Her position (`near`), rounded, or None. Never stored and never logged."""
        return self.cleaned_data.get("near") if self.is_valid() else None


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Hints with a link: built here, where the URLs can be looked up.
        comments = self.fields["comments"]
        comments.help_text = format_html(
            '{} <a href="{}">How to report a crime or get help</a>.',
            comments.help_text,
            reverse("website:help"),
        )
        self.fields["wants_updates"].help_text = format_html(
            "We will only email you about this, and only when something has been done. You can "
            'also see it on our <a href="{}">“You said, we did” page</a>.',
            reverse("website:you_said_we_did"),
        )

    def answers(self) -> SurveyAnswers:
        return SurveyAnswers(**self.cleaned_data)


# --- A partner's answer to a referral ---------------------------------------------------------


class PartnerAnswerForm(StyledForm):
    """A partner team's answer through its private link: the GOV.UK radios, with the date
    shown under "we will fix it" and "who is" under "not ours" (CSS reveals them; without
    it every box shows, and each is asked for only with its answer)."""

    answer = forms.ChoiceField(
        label="What will happen to it?",
        choices=[
            ("will_fix", "We will fix it"),
            ("fixed", "It is fixed"),
            ("not_ours", "It is not ours to fix"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what will happen to it"},
    )
    fix_by = forms.DateField(
        label="The date you will fix it by",
        help_text="For example, 27/03/2027.",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"invalid": "Enter a real date, for example 27/03/2027"},
    )
    who = LengthCheckedCharField(
        noun="Who is responsible",
        label="Who is responsible for it?",
        help_text="The team or organisation, if you know. The inspector will send it on.",
        required=False,
        max_chars=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    note = LengthCheckedCharField(
        noun="Your note",
        label="Anything to add? (optional)",
        help_text="What was or will be done. When it is fixed this is shown on the public "
        "“You said, we did” page: please name no one.",
        required=False,
        max_chars=1400,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean(self):
        data = super().clean()
        answer = data.get("answer")
        if answer == "will_fix" and not data.get("fix_by") and "fix_by" not in self.errors:
            self.add_error("fix_by", "Enter the date you will fix it by")
        if answer == "not_ours" and not data.get("who", "").strip() and "who" not in self.errors:
            self.add_error("who", "Say who is responsible for it, if you know")
        return data

    def answer_fields(self) -> dict:
        """The answer as partners.services.answer_referral takes it."""
        data = self.cleaned_data
        note = data["note"].strip()
        if data["answer"] == "not_ours":
            note = "\n".join(part for part in (data["who"].strip(), note) if part)
        fix_by = data["fix_by"] if data["answer"] == "will_fix" else None
        return {"answer": data["answer"], "fix_by": fix_by, "note": note}
