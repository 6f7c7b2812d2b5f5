"""``opiekun contracts-report``: the contracts at a glance, for operators.

A command is an ordinary click command; ``with_appcontext`` gives it the app (with the
deployment's database and plugins), exactly like the core's own commands.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from opiekun.plugin import company_today
from opiekun_contracts.services import ending_within, totals_by_status


@click.command("contracts-report")
@click.option(
    "--days",
    default=None,
    type=click.IntRange(0, 3650),
    help="list the active contracts ending within this many days (default: CONTRACTS_REPORT_DAYS, 30)",
)
@with_appcontext
def contracts_report_command(days: int | None) -> None:
    """Count and value of the contracts per status, and those ending soon."""
    if days is None:
        days = current_app.config["CONTRACTS_REPORT_DAYS"]
    totals = totals_by_status()
    if not totals:
        click.echo("no contracts yet")
        return
    for total in totals:
        click.echo(f"{total.status}: {total.count} contract(s), value {total.value:.2f}")
    ending = ending_within(company_today(), days)
    click.echo(f"ending within {days} day(s): {len(ending)}")
    for contract in ending:
        click.echo(
            f"  {contract.end_date.isoformat()}  {contract.name}  "
            f"({contract.company or 'no company'}; owner: {contract.owner or 'none'})"
        )
