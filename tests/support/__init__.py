"""Helpers the tests import: apps and databases (:mod:`.apps`), the API client
(:mod:`.api_client`), a person in front of the admin panel (:mod:`.admin_browser`) and
small plugins made inside a test (:mod:`.plugins`). Fixtures live in the conftest files."""
