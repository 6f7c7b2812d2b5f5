"""Audit: the change history of every record (in progress)."""
from opiekun import PluginManifest

MANIFEST = PluginManifest(name="audit", version="0.1.0", summary="Change history of every record, with export")
