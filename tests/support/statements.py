"""The SQL statements an app sends while a block runs, for tests that check what is asked
of the database (how many queries a page takes, whether a count is run at all)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event

from opiekun.extensions import db


@contextmanager
def statements_sent(app: Flask) -> Iterator[list[str]]:
    """The statements sent to ``app``'s database while the block runs, in order (the list
    fills as they are sent)."""
    with app.app_context():
        engine = db.engine
    sent: list[str] = []

    def note(connection, cursor, statement, *args) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)
