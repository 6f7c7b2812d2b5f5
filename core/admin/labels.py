"""Transitional: removed when the plugins are moved (issue 15).

The translatable labels of fields, values and users moved to :mod:`opiekun.labels`; the
plugins still import them from here.
"""
from opiekun.labels import (  # transitional: removed when the plugins are moved (issue 15)
    FIELD_LABELS,
    user_label,
    value_label,
)

__all__ = ["FIELD_LABELS", "user_label", "value_label"]
