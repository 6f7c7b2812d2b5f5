"""ownership: a primary period that only got shorter is not checked for overlaps again

Ending periods is most of what an owner change writes: a bulk owner change or an
offboarding transfer ends one primary period per record (``UPDATE … SET valid_to``), then
starts the next. A period of the same record that starts no earlier and ends no later than
before covers only days it covered already, so it cannot overlap a period it did not
overlap before the statement; checking it probed the index once per row for nothing
(35–58 ms per 15,000–20,000 periods ended in ``bench/offboarding.py``).

The UPDATE check now reads the statement's rows before and after (``previous_rows``) and
probes only the periods that became primary, moved to another record or grew; an UPDATE
that only shortens periods ends after one join of the two transition tables. SQLite's row
trigger gets the same condition as its ``WHEN``. The INSERT check is unchanged.

Revision ID: ownership_0008
Revises: ownership_0007
Create Date: 2026-12-07

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "ownership_0008"
down_revision = "ownership_0007"
branch_labels = None
depends_on = None

CHECK = "ownership_no_overlapping_primary"
#: only the index probe below may run with these (see ownership_0007)
PROBE_SETTINGS = "SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off"


def _shortened(before: str, after: str, open_end: str) -> str:
    """SQL: the period ``after`` is the primary period ``before`` of the same record, on
    fewer or the same days."""
    return (
        f"{before}.kind = 'primary' AND {before}.object_type = {after}.object_type "
        f"AND {before}.object_id = {after}.object_id AND {after}.valid_from >= {before}.valid_from "
        f"AND coalesce({after}.valid_to, {open_end}) <= coalesce({before}.valid_to, {open_end})"
    )


def _postgresql_check(changed_only: bool) -> str:
    """The trigger function; ``changed_only``: an UPDATE probes only the periods that were
    not merely shortened (``previous_rows`` is its old-rows transition table)."""
    shortened = _shortened("previous", "written", "'infinity'")
    narrowing = f"""
    IF TG_OP = 'UPDATE' THEN
        -- pairing the rows before and after takes a hash join, which the probe may not use
        PERFORM set_config('enable_hashjoin', 'on', true);
        SELECT array_agg(written.id) INTO probed
        FROM written_rows AS written
        LEFT JOIN previous_rows AS previous ON previous.id = written.id
        WHERE written.kind = 'primary'
          AND NOT coalesce({shortened}, false);
        IF probed IS NULL THEN
            RETURN NULL;
        END IF;
        PERFORM set_config('enable_hashjoin', 'off', true);
    END IF;"""
    return f"""
CREATE OR REPLACE FUNCTION {CHECK}() RETURNS trigger LANGUAGE plpgsql {PROBE_SETTINGS} AS $$
DECLARE
    clash record;
    probed integer[];
BEGIN{narrowing if changed_only else ""}
    SELECT written.id AS written_id, other.id AS other_id, written.object_type, written.object_id INTO clash
    FROM written_rows AS written
    JOIN ownership_assignments AS other
      ON other.object_type = written.object_type AND other.object_id = written.object_id
     AND other.kind = 'primary' AND other.id <> written.id
     AND other.valid_from <= coalesce(written.valid_to, 'infinity')
     AND coalesce(other.valid_to, 'infinity') >= written.valid_from
    WHERE written.kind = 'primary' AND (probed IS NULL OR written.id = ANY (probed))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '{CHECK}: primary periods % and % of % % overlap',
            clash.written_id, clash.other_id, clash.object_type, clash.object_id
            USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NULL;
END $$
"""


def _postgresql_update_trigger(changed_only: bool) -> str:
    transition_tables = (
        "OLD TABLE AS previous_rows NEW TABLE AS written_rows" if changed_only else "NEW TABLE AS written_rows"
    )
    return (
        f"CREATE TRIGGER {CHECK}_update AFTER UPDATE ON ownership_assignments "
        f"REFERENCING {transition_tables} FOR EACH STATEMENT EXECUTE FUNCTION {CHECK}()"
    )


def _sqlite_update_trigger(changed_only: bool) -> str:
    when = "NEW.kind = 'primary'"
    if changed_only:
        shortened = _shortened("OLD", "NEW", "'9999-12-31'")
        when += f" AND NOT ({shortened})"
    return f"""
CREATE TRIGGER {CHECK}_update AFTER UPDATE ON ownership_assignments
WHEN {when}
BEGIN
    SELECT RAISE(ABORT, '{CHECK}: primary periods of one record overlap')
    WHERE EXISTS (
        SELECT 1 FROM ownership_assignments AS other
        WHERE other.object_type = NEW.object_type AND other.object_id = NEW.object_id
          AND other.kind = 'primary' AND other.id <> NEW.id
          AND other.valid_from <= coalesce(NEW.valid_to, '9999-12-31')
          AND coalesce(other.valid_to, '9999-12-31') >= NEW.valid_from);
END
"""


def _replace_update_check(changed_only: bool) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP TRIGGER {CHECK}_update ON ownership_assignments")
        op.execute(_postgresql_check(changed_only))
        op.execute(_postgresql_update_trigger(changed_only))
    elif dialect == "sqlite":
        op.execute(f"DROP TRIGGER {CHECK}_update")
        op.execute(_sqlite_update_trigger(changed_only))


def upgrade():
    _replace_update_check(changed_only=True)


def downgrade():
    _replace_update_check(changed_only=False)
