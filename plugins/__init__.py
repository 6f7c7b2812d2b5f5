"""Opiekun's built-in plugins, installed as ``opiekun.plugins.<name>``.

Each is registered through the entry-point group ``opiekun.plugins`` in pyproject.toml — the
same way a partner's plugin is — and each has the same shape: ``__init__.py`` (manifest
and hook implementations), ``models.py``, ``services.py``, ``admin.py``, ``api.py``,
``jobs.py`` and ``migrations/``.
"""
