"""Verifying the history: the whole chain recomputed in id order, naming the first entry
that does not match (``opiekun audit verify``, the API, Administration → History
integrity). The rules are :func:`opiekun.plugins.audit.chain.verify`; this module reads
what they need from the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from opiekun.plugin import db
from opiekun.plugins.audit import chain
from opiekun.plugins.audit.entries import ANONYMIZE, ENTRIES, PURGE, read_head

#: Entries read at a time while the chain is checked.
READ_BATCH = 5000


def verify_history(progress: Callable[[int], None] | None = None, progress_every: int = 10_000) -> chain.Verdict:
    """Check the whole chain (streamed in id order); names the first bad entry.
    ``progress(checked)`` is called every ``progress_every`` entries (a background run)."""
    connection = db.session.connection()
    redactions = recorded_redactions(connection)
    purge_hashes = _purged_hashes(connection)
    head = read_head(connection)
    rows = _streamed_entries(connection)
    if progress is not None:
        rows = _counted(rows, progress, progress_every)
    return chain.verify(chain.chain_key(), rows, redactions, purge_hashes, head)


def recorded_redactions(connection: Connection) -> dict[int, tuple[str, str]]:
    """What the ``anonymize`` entries say they rewrote: ``{entry id: (digest before the
    first rewrite, digest after the last)}``."""
    redactions: dict[int, tuple[str, str]] = {}
    statement = select(ENTRIES.c.context).where(ENTRIES.c.operation == ANONYMIZE).order_by(ENTRIES.c.id)
    for context in connection.execute(statement).scalars():
        for entry_id, (before, after) in ((context or {}).get("redacted") or {}).items():
            original = redactions.get(int(entry_id), (before, after))[0]
            redactions[int(entry_id)] = (original, after)
    return redactions


def _purged_hashes(connection: Connection) -> set[str]:
    """The hashes of the last entries the ``purge`` entries removed (the chain goes on from them)."""
    statement = select(ENTRIES.c.context).where(ENTRIES.c.operation == PURGE)
    return {(context or {}).get("last_purged_hash") for context in connection.execute(statement).scalars()} - {None}


def _streamed_entries(connection: Connection) -> Iterator[Mapping[str, Any]]:
    """Every entry in id order, read ``READ_BATCH`` at a time (server-side cursor on PostgreSQL)."""
    statement = select(ENTRIES).order_by(ENTRIES.c.id)
    result = connection.execution_options(stream_results=True, yield_per=READ_BATCH).execute(statement)
    for partition in result.mappings().partitions():
        yield from partition


def _counted(rows: Iterable[Any], progress: Callable[[int], None], every: int) -> Iterator[Any]:
    """``rows`` as they are, calling ``progress(n)`` after every ``every``-th."""
    for number, row in enumerate(rows, 1):
        yield row
        if number % every == 0:
            progress(number)
