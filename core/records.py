"""Transitional: removed when the plugins are moved (issue 15).

The rules of saving records moved to :mod:`opiekun.record_rules` and the locked read of a
row to :mod:`opiekun.lookups`; the plugins still import these two names from here.
"""
from opiekun.lookups import load_for_change  # transitional: removed when the plugins are moved (issue 15)
from opiekun.record_rules import may_change  # transitional: removed when the plugins are moved (issue 15)

__all__ = ["load_for_change", "may_change"]
