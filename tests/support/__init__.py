"""Helpers only this suite uses: the tests' own partner plugin (:mod:`.visits_plugin`) and
post-sale template helpers. The apps, databases, API client, admin browser and small
plugins come from :mod:`opiekun.testing`, the kit partners use too. Fixtures live in the
conftest files."""
