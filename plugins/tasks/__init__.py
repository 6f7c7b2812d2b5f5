"""Tasks: types, statuses, next-task proposals, templates, sharing, calendar (in progress)."""
from opiekun import PluginManifest

MANIFEST = PluginManifest(name="tasks", version="0.1.0", summary="Tasks, templates, sharing and calendar feeds")
