"""Heavy reads on a streaming replica of the database (``OPIEKUN_DATABASE_REPLICA_URL``).

Reports and exports read many rows; on a replica they leave the primary to the writes.
Code that only reads wraps its work in :func:`replica_reads`: inside, the session's SELECTs
go to the replica when one is configured and it has replayed the primary's changes up to
``OPIEKUN_DATABASE_REPLICA_MAX_LAG`` seconds ago (default 10); otherwise, and for every
write, ``SELECT … FOR UPDATE`` and what a flush reads, to the primary. A replica that is
unreachable or lags too far is skipped for that block, so the work never fails or reads
stale data because of it::

    with replica_reads():
        rows = db.session.execute(select(AuditEntry).where(...)).all()

Reads inside the block do not see what the same transaction wrote before it: wrap reads
only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import flask_sqlalchemy.session
from flask import current_app
from sqlalchemy import Select, text
from sqlalchemy.exc import SQLAlchemyError

#: The bind key of the replica in ``SQLALCHEMY_BINDS``.
REPLICA = "replica"

_reading_replica: ContextVar[bool] = ContextVar("opiekun_reading_replica", default=False)
log = logging.getLogger(__name__)

#: How far behind the primary the replica is, in seconds: nothing to replay is 0, even when
#: the primary has been idle; NULL when the server is not a replica at all.
LAG_SQL = text(
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL "
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


class RoutingSession(flask_sqlalchemy.session.Session):
    """The app's session: inside :func:`replica_reads`, plain SELECTs go to the replica."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any):
        if bind is None and _reading_replica.get() and _plain_read(clause) and not self._flushing:
            return self._db.engines[REPLICA]
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def _plain_read(clause: Any) -> bool:
    """A SELECT that locks nothing."""
    return isinstance(clause, Select) and clause._for_update_arg is None


@contextmanager
def replica_reads() -> Iterator[bool]:
    """Inside, reads go to the replica if it is usable (:func:`replica_is_usable`); yields
    whether they do."""
    token = _reading_replica.set(replica_is_usable())
    try:
        yield _reading_replica.get()
    finally:
        _reading_replica.reset(token)


def replica_is_usable() -> bool:
    """Whether a replica is configured, answers, and lags at most the allowed seconds."""
    lag = replica_lag()
    return lag is not None and lag <= current_app.config["DATABASE_REPLICA_MAX_LAG"]


def replica_lag() -> float | None:
    """Seconds the replica is behind the primary; ``None`` without a usable replica."""
    engine = current_app.extensions["sqlalchemy"].engines.get(REPLICA)
    if engine is None:
        return None
    try:
        with engine.connect() as connection:
            lag = connection.execute(LAG_SQL).scalar()
    except SQLAlchemyError as error:
        log.warning("the database replica does not answer; reading from the primary: %s", error)
        return None
    if lag is None:
        log.warning("OPIEKUN_DATABASE_REPLICA_URL names a server that is not a replica; reading from the primary")
        return None
    return float(lag)


__all__ = ["REPLICA", "RoutingSession", "replica_is_usable", "replica_lag", "replica_reads"]
