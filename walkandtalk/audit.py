"""The audit trail in the admin: each object's History page lists who changed what and when,
field by field (django-simple-history, with the user from HistoryRequestMiddleware), plus the
history of rows that belong to it, such as a walk's roster.

Read only: no past version is restored (a change goes through the services, which tell the
women and keep the roster consistent), and another BCU's object has no history to show: 404,
as its change form gives."""

from django.contrib.admin.utils import unquote
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

HISTORY_TYPES = {"+": "Added", "~": "Changed", "-": "Removed"}


class ChangesInWords(HistoricalRecordContextHelper):
    """Each change on the History page as the admin's forms say it: a choice by its label
    ("Actioned", not "actioned"), and a field the model stores in a code of its own by the
    model's words for it (a classmethod `history_display_<field>(value)`), such as the times a
    concern feels unsafe, stored as a bitmask."""

    def prepare_delta_change_value(self, change, value):
        in_words = getattr(self.model, f"history_display_{change.field}", None)
        if in_words is not None and value is not None:
            return in_words(value)
        field = self.model._meta.get_field(change.field)
        if field.choices and value is not None:
            return dict(field.flatchoices).get(value, value)
        return super().prepare_delta_change_value(change, value)


class HistoryAdmin(SimpleHistoryAdmin):
    object_history_template = "admin/audit/history.html"
    object_history_list_template = "admin/audit/history_list.html"
    # (model, field pointing to this admin's object, heading, fields to show) for rows whose
    # history belongs on this object's History page.
    history_related: tuple = ()
    history_related_per_page = 100

    def history_view(self, request, object_id, extra_context=None):
        object_id = unquote(object_id)
        # get_object() turns the id from the address into the primary key's type first: "abc"
        # is a record that does not exist, not a query that fails.
        if self.get_object(request, object_id) is None:
            raise Http404("No such record.")
        related = [
            {
                "title": title,
                "fields": fields,
                "rows": [
                    {
                        "at": record.history_date,
                        "what": HISTORY_TYPES.get(record.history_type, record.history_type),
                        "by": record.history_user,
                        "values": [self.related_value(record, field) for field in fields],
                    }
                    for record in model.history.filter(**{f"{link}_id": object_id})
                    .select_related("history_user", *[f for f in fields if self._is_fk(model, f)])
                    .order_by("-history_date", "-history_id")[: self.history_related_per_page]
                ],
                "labels": [model._meta.get_field(f).verbose_name for f in fields],
            }
            for model, link, title, fields in self.history_related
        ]
        context = {"related_history": related, **(extra_context or {})}
        return super().history_view(request, object_id, context)

    def get_historical_record_context_helper(self, request, historical_record):
        return ChangesInWords(self.model, historical_record)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        raise Http404("Past versions are read on the History page, never restored.")

    @staticmethod
    def _is_fk(model, name: str) -> bool:
        return model._meta.get_field(name).many_to_one

    @staticmethod
    def related_value(record, field: str):
        display = getattr(record, f"get_{field}_display", None)
        return display() if display else getattr(record, field)
