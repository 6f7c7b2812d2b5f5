"""Tamper evidence: every history entry carries a hash chained to the entry before it.

Canonical form of an entry (``canonical``): the UTF-8 bytes of the JSON array ::

    ["opiekun.audit/1", at, user_id, user_name, job, object_type, object_id,
     object_name, object_url, operation, changes, context]

with ``at`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC), ``json.dumps(sort_keys=True,
separators=(",", ":"), ensure_ascii=False)``; the entry's ``id`` is not part of it (the
chain itself fixes each entry's place). Its digest is ``sha256(canonical)``.

The chain: ``hash = HMAC-SHA256(key, previous_hash + ":" + digest)``, the first entry's
previous hash being 64 zeros; the key is derived from the app's secret key, so someone who
can write to the database but does not hold ``OPIEKUN_SECRET_KEY`` cannot recompute the
chain after altering, inserting or removing a row.

Anonymization rewrites earlier entries on purpose. The ``anonymize`` entry (appended to the
chain) lists, under ``context.redacted``, every entry it rewrote as ``{id: [digest
before, digest after]}``: verification accepts an entry whose content has the "after"
digest and continues the chain with the "before" digest, which the chain authenticates. A
purge of old entries (retention) appends a ``purge`` entry naming the hash of the last
entry removed, from which the remaining chain continues.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app

FORMAT = "opiekun.audit/1"
GENESIS = "0" * 64
_KEY_LABEL = b"opiekun.audit.chain"


def chain_key() -> bytes:
    """The app's chain key (derived once per app from its secret key)."""
    cached = current_app.extensions.get("audit.chain_key")
    secret = current_app.config["SECRET_KEY"]
    if cached is None or cached[0] != secret:
        raw = secret.encode() if isinstance(secret, str) else secret
        cached = (secret, hmac.new(raw, _KEY_LABEL, hashlib.sha256).digest())
        current_app.extensions["audit.chain_key"] = cached
    return cached[1]


def timestamp_text(at: dt.datetime) -> str:
    """A moment as the canonical form writes it: ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_JSON_OPTIONS = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False, "default": str}
_encode = json.JSONEncoder(**_JSON_OPTIONS).encode


def canonical_text(entry: Mapping[str, Any]) -> str:
    """The text whose UTF-8 bytes an entry's digest is taken over (see the module's docstring)."""
    body = [
        FORMAT,
        timestamp_text(entry["at"]),
        entry.get("user_id"),
        entry.get("user_name"),
        entry.get("job"),
        entry["object_type"],
        entry.get("object_id"),
        entry.get("object_name"),
        entry.get("object_url"),
        entry["operation"],
        entry.get("changes") or [],
        entry.get("context") or {},
    ]
    return _encode(body)


def canonical(entry: Mapping[str, Any]) -> bytes:
    """The canonical form of an entry: the UTF-8 bytes of :func:`canonical_text`."""
    return canonical_text(entry).encode("utf-8")


def text_digest(text: str) -> str:
    """The digest of an entry given by its canonical text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest(entry: Mapping[str, Any]) -> str:
    """``sha256`` of the entry's canonical form, in hex."""
    return text_digest(canonical_text(entry))


def link(key: bytes, previous_hash: str, entry_digest: str) -> str:
    """The entry's hash: ``HMAC-SHA256(key, previous_hash:digest)``, in hex."""
    return Linker(key)(previous_hash, entry_digest)


class Linker:
    """:func:`link` for many entries under one key, the key's HMAC state made once (a
    third less time per entry than keying each one)."""

    def __init__(self, key: bytes):
        self._keyed = hmac.new(key, digestmod="sha256")

    def __call__(self, previous_hash: str, entry_digest: str) -> str:
        state = self._keyed.copy()
        state.update(f"{previous_hash}:{entry_digest}".encode("ascii"))
        return state.hexdigest()


# --- many entries that differ in a few values ---------------------------------------------------


class Slot:
    """A placeholder for the ``index``-th per-entry value in what :class:`Template` is made of."""

    def __init__(self, index: int):
        self.index = index

    def __str__(self) -> str:  # what json.dumps(default=str) writes for it
        return f"\x00slot:{self.index}\x00"


_SLOT_IN_TEXT = re.compile(r'"\\u0000slot:(\d+)\\u0000"')


def encode_value(value: Any) -> str:
    """The JSON text of one value as :func:`canonical_text` writes it (scalars the short way)."""
    kind = type(value)
    if kind is str:
        return _encode_string(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return _encode(value)


_encode_string = json.encoder.encode_basestring  # what the encoder uses with ensure_ascii=False


class Template:
    """The JSON text of a value holding :class:`Slot` placeholders, filled per entry with the
    slots' values already encoded by :func:`encode_value`: the result is the very text
    ``json.dumps`` gives for the value with the slots replaced (JSON text is made of its
    parts' texts, same options), so a bulk change's entries are hashed and stored without
    serializing each one whole."""

    def __init__(self, text: str):
        parts = _SLOT_IN_TEXT.split(text)
        texts = [part.replace("{", "{{").replace("}", "}}") for part in parts[0::2]]
        slots = [f"{{{index}}}" for index in parts[1::2]]
        self._format = "".join(text + slot for text, slot in zip(texts, slots, strict=False)) + texts[-1]

    @classmethod
    def of_entry(cls, entry: Mapping[str, Any]) -> Template:
        """The canonical text of ``entry`` (see :func:`canonical_text`)."""
        return cls(canonical_text(entry))

    @classmethod
    def of_value(cls, value: Any) -> Template:
        """The JSON text of ``value`` (as stored in a JSON column)."""
        return cls(_encode(value))

    def fill(self, encoded_values: Sequence[str]) -> str:
        """The text with every slot replaced by its value's JSON text (``encoded_values[index]``)."""
        return self._format.format(*encoded_values)


def chain(key: bytes, previous_hash: str, entries: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The hashes of ``entries``, in order, continuing from ``previous_hash``."""
    linked = Linker(key)
    for entry in entries:
        previous_hash = linked(previous_hash, digest(entry))
        yield previous_hash


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`verify`: ``ok``, how many entries were checked, and the first
    bad entry (id and why) when the history was altered."""

    ok: bool
    checked: int
    head_hash: str
    bad_entry_id: int | None = None
    problem: str | None = None

    def describe(self) -> str:
        """The verdict in one line (what ``opiekun audit verify`` prints)."""
        if self.ok:
            return f"history intact: {self.checked} entries checked, chain head {self.head_hash[:16]}…"
        return f"history altered: entry #{self.bad_entry_id}: {self.problem}"


def verify(
    key: bytes,
    rows: Iterable[Mapping[str, Any]],
    redactions: Mapping[int, tuple[str, str]],
    purge_hashes: set[str],
    head: Mapping[str, Any] | None,
) -> Verdict:
    """Walk ``rows`` (every entry, in id order) and check the chain.

    ``redactions`` and ``purge_hashes`` come from the ``anonymize`` and ``purge`` entries
    (which are themselves checked in the walk); ``head`` is the chain's head row.
    """
    linked = Linker(key)
    previous: str | None = None
    checked = 0
    last_id = None
    for row in rows:
        checked += 1
        entry_id = row["id"]
        stored = row["hash"]
        current_digest = digest(row)
        if entry_id in redactions and current_digest == redactions[entry_id][1]:
            current_digest = redactions[entry_id][0]
        candidates = [previous] if previous is not None else [GENESIS, *sorted(purge_hashes)]
        if stored is None or not any(
            hmac.compare_digest(linked(candidate, current_digest), stored) for candidate in candidates
        ):
            if previous is not None and stored is not None and entry_id in redactions:
                problem = "its content was changed after it was anonymized"
            else:
                problem = (
                    "its content or hash was changed, or an entry before it was removed or inserted "
                    "outside the application"
                )
            return Verdict(False, checked, previous or GENESIS, entry_id, problem)
        previous = stored
        last_id = entry_id
    head_hash = previous or GENESIS
    if head is not None and head["last_hash"] != head_hash:
        return Verdict(
            False,
            checked,
            head_hash,
            last_id,
            "the chain head names another last entry: entries after this one were removed",
        )
    return Verdict(True, checked, head_hash)
