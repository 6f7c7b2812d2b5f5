"""A plugin's page templates are found by convention, as its translations are: the
``templates/`` folder beside its module, with no blueprint declaring it."""

import importlib.util
import sys

from flask import render_template

from opiekun.testing.apps import make_settings

PLUGIN_SOURCE = """
from opiekun import PluginManifest

MANIFEST = PluginManifest(name="notes_example", version="0.1.0", summary="templates by convention", depends=())
"""


def load_plugin_from_folder(folder, monkeypatch):
    (folder / "templates" / "notes_example").mkdir(parents=True)
    (folder / "templates" / "notes_example" / "note.html").write_text("Notatka: {{ text }}", encoding="utf-8")
    (folder / "notes_example.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("notes_example", folder / "notes_example.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "notes_example", module)
    spec.loader.exec_module(module)
    return module


def test_an_enabled_plugins_templates_folder_is_searched(tmp_path, monkeypatch):
    from opiekun.app import create_app

    plugin = load_plugin_from_folder(tmp_path / "partner", monkeypatch)
    app = create_app(make_settings(tmp_path / "instance", plugins=("notes_example",)), extra_plugins=[plugin])
    with app.test_request_context():
        assert render_template("notes_example/note.html", text="zadzwonić") == "Notatka: zadzwonić"
