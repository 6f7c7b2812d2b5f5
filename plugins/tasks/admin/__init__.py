"""The tasks in the admin panel: the task list (filters by responsible, type, status, due
day, overdue; only what the sharing rules let the user see), the task form, the page that
proposes the next tasks after one is done, the tasks section on records' pages, and the
configuration views (types, statuses and their switch, templates, post-sale templates,
sharing).

Views stay thin: saving, completing, deleting and sharing go through
:mod:`opiekun.plugins.tasks.services`, the same rules as the API.
"""
