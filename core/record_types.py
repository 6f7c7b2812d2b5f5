"""Transitional: removed when the plugins are moved (issue 15).

The registry of record types moved to :mod:`opiekun.record_registry`; the plugins and the
partner example still import it from here.
"""
from opiekun.record_registry import (  # transitional: removed when the plugins are moved (issue 15)
    RecordApi,
    RecordType,
    RecordTypeRegistry,
    record_types,
)

__all__ = ["RecordApi", "RecordType", "RecordTypeRegistry", "record_types"]
