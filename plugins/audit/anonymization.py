"""Anonymizing a person (GDPR): their personal data replaced in the record and in every
earlier history entry, the chain kept verifiable.

Rewriting an earlier entry changes its digest, so the ``anonymize`` entry records what it
rewrote in its ``context.redacted`` (``{entry id: [digest before, digest after]}``), which
verification trusts since the chain authenticates that entry (see ``README.md``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from sqlalchemy import Text, bindparam, cast, select, update
from sqlalchemy.engine import Connection

from opiekun.plugin import (
    Conflict,
    Message,
    NotFound,
    Person,
    change_context,
    db,
    enqueue_on_commit,
    find_by_id,
    record_types,
    update_records,
)
from opiekun.plugins.audit import chain, jobs
from opiekun.plugins.audit.entries import ANONYMIZE, ENTRIES, REDACTED, lock_head
from opiekun.plugins.audit.verification import recorded_redactions

#: The person fields that hold personal data (replaced in the record and its history).
PERSONAL_FIELDS = ("first_name", "last_name", "email", "phone", "position")

#: An entry as rewritten, with its digest before the rewrite.
_Rewrite = tuple[dict[str, Any], str]

_SET_REWRITTEN = (
    update(ENTRIES)
    .where(ENTRIES.c.id == bindparam("entry_id"))
    .values(object_name=bindparam("new_name"), changes=bindparam("new_changes"))
)


def anonymized_values(person_id: int) -> dict[str, Any]:
    """What replaces the person's personal data in the record: a name in the language of
    whoever anonymizes ("Zanonimizowana osoba #12", "Anonymized person #12")."""
    return {
        "first_name": gettext("Anonymized"),
        "last_name": gettext("person #%(id)s", id=person_id),
        "email": None,
        "phone": None,
        "position": None,
    }


@dataclass(frozen=True)
class AnonymizationPreview:
    """What :func:`anonymize_person` would do now, for the confirmation a person reads first."""

    person: Person
    #: the personal fields holding a value now (replaced or emptied)
    fields: tuple[str, ...]
    #: history entries of the person whose name and personal values will be redacted
    own_entries: int
    #: other records' entries naming the person (a deal's contact) whose labels will be redacted
    referring_entries: int


def anonymization_preview(person_id: int) -> AnonymizationPreview:
    """What anonymizing the person would scrub (nothing is changed). Raises as
    :func:`anonymize_person` does: :class:`NotFound`, :class:`Conflict` when done already."""
    _check_anonymizable(person_id)
    connection = db.session.connection()
    person = db.session.get(Person, person_id)
    return AnonymizationPreview(
        person=person,
        fields=tuple(field for field in PERSONAL_FIELDS if getattr(person, field) not in (None, "")),
        own_entries=sum(1 for _ in _own_entries_rewritten(connection, person_id)),
        referring_entries=sum(1 for _ in _references_rewritten(connection, person_id)),
    )


def anonymize_person(person_id: int) -> Mapping[str, Any]:
    """Replace a person's personal data in the record and in every earlier history entry
    (theirs, and labels naming them in other records' entries); one ``anonymize`` entry,
    by the acting user, remains. The caller commits.

    Raises :class:`NotFound` for an unknown person and :class:`Conflict` when the person
    was anonymized already.
    """
    _check_anonymizable(person_id)
    db.session.flush()
    connection = db.session.connection()
    lock_head(connection)  # no entry may be appended while earlier ones are rewritten
    rewrites = [*_own_entries_rewritten(connection, person_id), *_references_rewritten(connection, person_id)]
    redacted = _redaction_record(connection, rewrites)
    if rewrites:
        connection.execute(
            _SET_REWRITTEN,
            [
                {"entry_id": entry["id"], "new_name": entry["object_name"], "new_changes": entry["changes"]}
                for entry, _ in rewrites
            ],
        )
    with change_context(redacted=redacted):
        update_records(db.session, Person, Person.id == person_id, anonymized_values(person_id), operation=ANONYMIZE)
    # any export file may hold the person's data: gone now, and again once this commits
    # (an export running meanwhile then discards its file)
    jobs.forget_exports()
    enqueue_on_commit(jobs.FORGET_EXPORTS)
    return {"person_id": person_id, "rewritten_entries": len(rewrites)}


def find_person(person_id: int) -> Person | None:
    """The person ``person_id``, if there is one."""
    return find_by_id(Person, person_id)


def anonymization_entry(person_id: int) -> int | None:
    """The id of the history entry that anonymized the person (``None``: not anonymized)."""
    return db.session.scalar(
        select(ENTRIES.c.id)
        .where(ENTRIES.c.object_type == "person", ENTRIES.c.object_id == person_id, ENTRIES.c.operation == ANONYMIZE)
        .limit(1)
    )


def _check_anonymizable(person_id: int) -> None:
    """``NotFound`` for an unknown person, ``Conflict`` for one anonymized already."""
    person = find_by_id(Person, person_id)
    if person is None:
        raise NotFound(Message("no person with id %(id)s", id=person_id))
    already = anonymization_entry(person_id)
    if already is not None:
        raise Conflict(
            Message("person %(id)s was anonymized already (history entry #%(entry)s)", id=person_id, entry=already)
        )


def _anonymized_name(person_id: int) -> str:
    values = anonymized_values(person_id)
    return " ".join(value for value in (values["first_name"], values["last_name"]) if value)


def _own_entries_rewritten(connection: Connection, person_id: int) -> Iterator[_Rewrite]:
    """The person's own entries: the new name, and the personal fields' values redacted."""
    new_name = _anonymized_name(person_id)
    personal = set(PERSONAL_FIELDS)
    own = (
        select(ENTRIES)
        .where(ENTRIES.c.object_type == "person", ENTRIES.c.object_id == person_id)
        .order_by(ENTRIES.c.id)
    )
    for row in connection.execute(own).mappings().all():
        entry = dict(row)
        before = chain.digest(entry)
        entry["object_name"] = new_name
        entry["changes"] = _redact_changes(entry["changes"], personal)
        yield entry, before


def _references_rewritten(connection: Connection, person_id: int) -> Iterator[_Rewrite]:
    """Other records' entries whose labels name the person (a deal's ``person_id``)."""
    for object_type, fields in _person_reference_fields().items():
        candidates = (
            select(ENTRIES)
            .where(ENTRIES.c.object_type == object_type, cast(ENTRIES.c.changes, Text).like(f"%{person_id}%"))
            .order_by(ENTRIES.c.id)
        )
        for row in connection.execute(candidates).mappings().all():
            entry = dict(row)
            before = chain.digest(entry)
            entry["changes"] = _redact_labels(entry["changes"], fields, person_id)
            if chain.digest(entry) != before:
                yield entry, before


def _redaction_record(connection: Connection, rewrites: list[_Rewrite]) -> dict[str, list[str]]:
    """``{entry id: [digest before, digest after]}`` for the ``anonymize`` entry; an entry
    rewritten before (a deal naming two anonymized persons) keeps its first "before"."""
    earlier = recorded_redactions(connection)
    return {
        str(entry["id"]): [earlier.get(entry["id"], (before, before))[0], chain.digest(entry)]
        for entry, before in rewrites
    }


def _redact_changes(changes: list, personal: set[str]) -> list:
    """``changes`` with the values and labels of the ``personal`` fields redacted."""
    rewritten = []
    for item in changes or []:
        item = dict(item)
        if item.get("field") in personal:
            for side in ("old", "new"):
                if item.get(side) is not None:
                    item[side] = REDACTED
                if item.get(f"{side}_label") is not None:
                    item[f"{side}_label"] = REDACTED
        rewritten.append(item)
    return rewritten


def _redact_labels(changes: list, reference_fields: set[str], person_id: int) -> list:
    """``changes`` with the labels naming the person (in ``reference_fields``) redacted."""
    rewritten = []
    for item in changes or []:
        item = dict(item)
        if item.get("field") in reference_fields:
            for side in ("old", "new"):
                if item.get(side) == person_id and item.get(f"{side}_label") is not None:
                    item[f"{side}_label"] = REDACTED
        rewritten.append(item)
    return rewritten


def _person_reference_fields() -> dict[str, set[str]]:
    """Per record type, the fields that point at persons (their labels name the person)."""
    fields: dict[str, set[str]] = {}
    for record_type in record_types():
        for column in record_type.model.__table__.c:
            if any(foreign_key.column.table is Person.__table__ for foreign_key in column.foreign_keys):
                fields.setdefault(record_type.name, set()).add(column.key)
    return fields
