"""When each plugin was on and off, and catching up after a time off.

A plugin that is off does not hear of the core records changed meanwhile: a company
deleted keeps its owner periods and its tasks, an owner changed in a form starts no new
period, a record created has no history entry. So the core notes which installed plugins
are on whenever the deployment runs with them — ``opiekun init``, ``serve``, ``worker``,
``scheduler`` (:func:`note_plugin_activity`, table ``plugin_activity``); a plugin seen on
again after being off leaves a *gap* (``plugin_gaps``: from when to when).
``opiekun init`` then asks each plugin back from a gap to catch up
(:func:`reconcile_resumed_plugins`, the hook ``opiekun_plugin_resumed``) and keeps what
that changed; the plugins page and ``opiekun plugins`` show it. The audit plugin shows its
own gaps in the history: the entries of that time are missing, and it says so.

Only plugins that have been on at least once get a row, so enabling a plugin for the first
time is no gap. Every write is conditional (``… WHERE enabled = …``), so processes that
start together (gunicorn's workers) note each change once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app
from sqlalchemy import delete, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from opiekun.changes import Actor, acting_as
from opiekun.errors import Message, PluralMessage
from opiekun.extensions import db
from opiekun.models import PluginActivity, PluginGap, utcnow
from opiekun.plugin_manager import PluginError

log = logging.getLogger(__name__)

#: Who the changes made while catching up are attributed to (the history shows it).
CATCHING_UP = Actor(job="opiekun init")


def note_plugin_activity() -> list[PluginGap]:
    """Note which installed plugins are on now; returns the gaps that closed (plugins back
    after being off). Does nothing before the schema exists, and only logs when the
    database cannot be reached (the command goes on; ``opiekun init`` says more)."""
    try:
        if not inspect(db.engine).has_table(PluginActivity.__tablename__):
            return []
        closed = _note(current_app.extensions["opiekun.plugins"])
        db.session.commit()
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("could not note which plugins are on: %s", error)
        return []
    return closed


def _note(host) -> list[PluginGap]:
    now = utcnow()
    table = PluginActivity.__table__
    enabled = set(host.names)
    seen = {row.plugin: row for row in db.session.execute(select(table))}
    for name in sorted(enabled - set(seen)):
        db.session.execute(_insert_new(table).values(plugin=name, enabled=True, since=now))
    for name, row in seen.items():
        if row.enabled and name not in enabled and name in host.installed:
            db.session.execute(
                update(table).where(table.c.plugin == name, table.c.enabled.is_(True)).values(enabled=False, since=now)
            )
    closed = []
    for name in sorted(enabled & set(seen)):
        row = seen[name]
        if row.enabled:
            continue
        switched_on = db.session.execute(
            update(table)
            .where(table.c.plugin == name, table.c.enabled.is_(False), table.c.since == row.since)
            .values(enabled=True, since=now)
        )
        if switched_on.rowcount == 1:  # this process saw it first
            gap = PluginGap(plugin=name, off_from=row.since, off_until=now)
            db.session.add(gap)
            closed.append(gap)
    db.session.flush()
    return closed


def _insert_new(table):
    """INSERT … ON CONFLICT DO NOTHING (another process may note the plugin at once)."""
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=[table.c.plugin])


def gaps_of(plugin: str) -> list[PluginGap]:
    """The times the plugin was off (and came back), oldest first."""
    return list(db.session.scalars(select(PluginGap).where(PluginGap.plugin == plugin).order_by(PluginGap.off_from)))


def off_since(plugin: str) -> PluginActivity | None:
    """The plugin's row when it was last seen off (it has been on before), else None."""
    row = db.session.get(PluginActivity, plugin)
    return row if row is not None and not row.enabled else None


def forget_plugin(plugin: str) -> None:
    """An uninstalled plugin: its activity and gaps go with its data (in the caller's
    transaction)."""
    db.session.execute(delete(PluginActivity).where(PluginActivity.plugin == plugin))
    db.session.execute(delete(PluginGap).where(PluginGap.plugin == plugin))


def pending_gaps() -> list[PluginGap]:
    """The times off of enabled plugins not caught up with yet, oldest first."""
    enabled = current_app.extensions["opiekun.plugins"].names
    return list(
        db.session.scalars(
            select(PluginGap)
            .where(PluginGap.reconciled_at.is_(None), PluginGap.plugin.in_(enabled))
            .order_by(PluginGap.off_from)
        )
    )


def reconcile_resumed_plugins(report: Callable[[PluginGap], None] = lambda _: None) -> list[PluginGap]:
    """Ask every enabled plugin back from a gap not yet caught up with to catch up
    (``opiekun_plugin_resumed``), one plugin per transaction; ``report`` is told of each
    gap as it is caught up with (what changed: :func:`summary_lines`). A plugin that fails
    rolls back its own catching up (its gap stays open, for the next ``opiekun init``) and
    stops here with :class:`~opiekun.plugin_manager.PluginError`."""
    host = current_app.extensions["opiekun.plugins"]
    done = []
    for gap in pending_gaps():
        try:
            with acting_as(CATCHING_UP):
                answers = host.plugin_resumed(gap.plugin, db.session, gap)
                lines = [line if isinstance(line, Message) else Message(line) for answer in answers for line in answer]
                gap.reconciled_at = utcnow()
                gap.summary = [_stored(line) for line in lines]
                db.session.commit()
        except Exception as error:
            db.session.rollback()
            raise PluginError(
                f"plugin {gap.plugin!r} failed to catch up with the records changed while it was off "
                f"({type(error).__name__}: {error}); nothing of it was saved: fix the cause and run opiekun init again"
            ) from error
        report(gap)
        done.append(gap)
    return done


def summary_lines(gap: PluginGap) -> list[Message]:
    """What catching up after ``gap`` changed, as messages (translated where shown)."""
    return [_message(stored) for stored in gap.summary or []]


def span_text(gap: PluginGap) -> str:
    """The time off in UTC, for the command line (``2026-12-04 15:58 – 2026-12-06 15:58 UTC``)."""
    return f"{gap.off_from:%Y-%m-%d %H:%M} – {gap.off_until:%Y-%m-%d %H:%M} UTC"


def _stored(line: Message) -> dict:
    if isinstance(line, PluralMessage):
        values = {name: value for name, value in line.values.items() if name != "num"}
        return {"singular": line.singular, "plural": line.plural, "num": line.num, "values": values}
    return {"msgid": line.msgid, "values": line.values}


def _message(stored: dict) -> Message:
    if "plural" in stored:
        return PluralMessage(stored["singular"], stored["plural"], stored["num"], **stored["values"])
    return Message(stored["msgid"], **stored["values"])
