"""Owners of records: primary and deputy owners with roles and date ranges (in progress)."""
from opiekun import PluginManifest

MANIFEST = PluginManifest(name="ownership", version="0.1.0", summary="Owners of records: primary and deputies, periods, history")
