"""Transitional: removed when the plugins are moved (issue 15).

The Alembic runner moved to :mod:`opiekun.migration_runner`; the shared test fixtures and
the benchmarks still import it from here.
"""
from opiekun.migration_runner import upgrade_schema  # transitional: removed when the plugins are moved (issue 15)

__all__ = ["upgrade_schema"]
