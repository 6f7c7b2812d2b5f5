"""Transitional: removed when the plugins are moved (issue 15).

The SELECT behind a record list moved to :mod:`opiekun.record_queries` and the API's CRUD
routes to :mod:`opiekun.api.record_routes`; the ownership plugin still imports
``filtered_records`` from here.
"""
from opiekun.record_queries import filtered_records  # transitional: removed when the plugins are moved (issue 15)

__all__ = ["filtered_records"]
