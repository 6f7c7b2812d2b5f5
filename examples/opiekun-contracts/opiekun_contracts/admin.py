"""The contracts list and form in the admin panel (``/admin``).

Subclass the core's :class:`opiekun.admin.views.RecordView`: it brings login, CSRF, the
owner filters (owner, no owner, departed owner), a select and a filter for ``status``
(read from the model's ``enum_check``) and every plugin's bulk actions, and it saves
through the same rules as the API (so ``end_date`` before ``start_date`` is a form
message here too). Only say which columns to show and which more to filter by. The core
creates the view itself, as ``ContractView(record_type)``, because the record type names it.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from opiekun.plugin.admin import RecordView


class ContractView(RecordView):
    column_list = ("name", "company", "value", "start_date", "end_date", "status", "owner")
    column_filters = ("start_date", "end_date", "value")
    #: labels of the columns the core does not know (the core's — name, value, owner… —
    #: come with RecordView); translated by this package's catalog
    column_labels = {**RecordView.column_labels, "start_date": _l("Start date"), "end_date": _l("End date")}
