"""``opiekun audit verify`` (and ``opiekun audit purge``) for operators."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("audit")
def audit_group() -> None:
    """The change history: verify its hash chain, apply retention."""


@audit_group.command("verify")
@with_appcontext
def verify_command() -> None:
    """Check that the history was not altered outside the application; exit 1 naming the
    first bad entry when it was."""
    from opiekun.plugins.audit.verification import verify_history

    verdict = verify_history()
    click.echo(verdict.describe())
    if not verdict.ok:
        raise SystemExit(1)


@audit_group.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete entries older than the retention setting now (what the nightly job does)."""
    from opiekun.plugin import db
    from opiekun.plugins.audit.retention import purge_old_entries

    result = purge_old_entries()
    db.session.commit()
    if result["retention_months"] is None:
        click.echo("no retention is set: the history is kept for ever")
    else:
        click.echo(f"{result['purged']} entries older than {result['retention_months']} months deleted")
