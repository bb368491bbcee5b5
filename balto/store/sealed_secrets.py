"""At start, every stored secret sealed under the current key (`balto.sealing`).

Rows from before sealing, or sealed under a key since moved to ``BALTO_SECRETS_KEYS_OLD``, are
sealed anew, so a rotation is finished by one start. A value sealed under a key the server was not
given stops the start with a `ConfigError` naming it: running on would lock every such gestor out
of the second step and send webhook deliveries nobody can check. When that key is lost for good,
``BALTO_SECRETS_DROP_UNREADABLE=1`` drops those secrets instead: the gestores' two-step
verification is turned off (a chain that requires it has them set it up again at their next
sign-in) and those webhooks get a new secret that nobody has seen (the chain makes another with
*Novo segredo*). A value that names a key the server has, and does not open, was altered in the
database: logged and left (or dropped with that setting), never a stopped start, since the other
accounts, webhooks and every counter are unharmed. Functions take a psycopg connection and run
in the store's worker threads.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import psycopg
from psycopg import sql

from balto.errors import ConfigError
from balto.sealing import PREFIX, TOTP, WEBHOOK, Box, Unreadable, sealed_key_id
from balto.store.database import Database
from balto.store.webhooks import new_secret

log = logging.getLogger(__name__)

# (table, column, purpose): every column that holds a secret to be read back
COLUMNS = (
    ("gestores", "totp_segredo", TOTP),
    ("gestores", "totp_pendente", TOTP),
    ("webhooks", "segredo", WEBHOOK),
    ("webhooks", "segredo_anterior", WEBHOOK),
)


@dataclass(frozen=True)
class Resealed:
    """What a start did to the stored secrets."""

    sealed: int  # plain or under an older key, now under the current one
    dropped: int  # under a key nobody has, dropped on request


def _rows(
    conn: psycopg.Connection, table: str, column: str, pattern: str, *, like: bool = True
) -> list[tuple[str, str]]:
    """(id, stored value) of the rows whose `column` is LIKE `pattern` (`like` off: is not).

    The rows stay locked until the transaction ends.
    """
    test = "LIKE" if like else "NOT LIKE"
    query = sql.SQL(
        "SELECT id::text, {c} FROM {t} WHERE {c} IS NOT NULL AND {c} " + test + " %s FOR UPDATE"
    )
    return conn.execute(
        query.format(c=sql.Identifier(column), t=sql.Identifier(table)), (pattern,)
    ).fetchall()


def _unknown(conn: psycopg.Connection, box: Box) -> dict[str, int]:
    """The ids of keys that sealed stored values and that `box` lacks, with how many each."""
    found: dict[str, int] = {}
    known = box.known_ids()
    for table, column, _ in COLUMNS:
        for _, stored in _rows(conn, table, column, PREFIX + "%"):
            kid = sealed_key_id(stored)
            # "": cut short, no key id to name; one of ours that does not open is `_altered`'s
            if kid and kid not in known:
                found[kid] = found.get(kid, 0) + 1
    return found


def _altered(conn: psycopg.Connection, box: Box) -> list[tuple[str, str, str, str]]:
    """Where stored values do not open though `box` has the key they name: altered in the database.

    (table, column, purpose, row id) each; a value cut short names no key and counts too.
    """
    found = []
    known = box.known_ids()
    for table, column, purpose in COLUMNS:
        for row_id, stored in _rows(conn, table, column, PREFIX + "%"):
            kid = sealed_key_id(stored)
            if kid and kid not in known:
                continue  # a key not given: `_unknown`'s
            try:
                box.open(purpose, stored)
            except Unreadable:
                found.append((table, column, purpose, row_id))
    return found


def _drop_one(conn: psycopg.Connection, box: Box, column: str, purpose: str, row_id: str) -> None:
    """Forget one unreadable secret the way its owner can recover from (module docstring)."""
    if column == "totp_pendente":  # a set-up never confirmed: asked again, it starts anew
        conn.execute("UPDATE gestores SET totp_pendente = NULL WHERE id = %s", (row_id,))
    elif purpose == TOTP:
        # the account's second step ends with its secret: recovery codes go too
        conn.execute(
            "UPDATE gestores SET totp_segredo = NULL, totp_pendente = NULL WHERE id = %s",
            (row_id,),
        )
        conn.execute("DELETE FROM gestor_recuperacao WHERE gestor_id = %s", (row_id,))
    elif column == "segredo":
        conn.execute(
            "UPDATE webhooks SET segredo = %s WHERE id = %s",
            (box.seal(WEBHOOK, new_secret()), row_id),
        )
    else:
        conn.execute(
            "UPDATE webhooks SET segredo_anterior = NULL, segredo_anterior_ate = NULL"
            " WHERE id = %s",
            (row_id,),
        )


def _drop(conn: psycopg.Connection, box: Box, missing: set[str]) -> int:
    dropped = 0
    for table, column, purpose in COLUMNS:
        for row_id, stored in _rows(conn, table, column, PREFIX + "%"):
            if sealed_key_id(stored) in missing:
                _drop_one(conn, box, column, purpose, row_id)
                dropped += 1
    return dropped


def reseal(conn: psycopg.Connection, box: Box, drop_unreadable: bool = False) -> Resealed:
    """Seal every stored secret under `box`'s current key (none: leave them as they are).

    A value that names a key `box` has (or none) and does not open was altered in the database:
    it is left as it is and logged (its gestor's sign-in answers 503, its webhook's deliveries
    fail, each saying why), or dropped with `drop_unreadable`; the start goes on, since the
    other accounts, webhooks and every counter are unharmed.

    Raises:
        ConfigError: A value is sealed under a key `box` lacks, and `drop_unreadable` is off.
    """
    with conn.transaction():
        unknown = _unknown(conn, box)
        dropped = 0
        if unknown and not drop_unreadable:
            named = ", ".join(f"{kid} ({n} stored)" for kid, n in sorted(unknown.items()))
            have = ", ".join(sorted(box.known_ids())) or "none"
            raise ConfigError(
                f"stored secrets are sealed with keys this server was not given: {named};"
                f" its keys: {have}. Set"
                " BALTO_SECRETS_KEY (or BALTO_SECRETS_KEYS_OLD) to the key with that id; if it"
                " is lost, BALTO_SECRETS_DROP_UNREADABLE=1 turns those gestores' two-step"
                " verification off and gives those webhooks new secrets (README: Secrets at rest)"
            )
        if unknown:
            dropped = _drop(conn, box, set(unknown))
            log.warning("dropped %d secrets sealed with lost keys %s", dropped, sorted(unknown))
        altered = _altered(conn, box)
        for _, column, purpose, row_id in altered if drop_unreadable else ():
            _drop_one(conn, box, column, purpose, row_id)
        if altered:
            where = ", ".join(f"{t}.{c} of {row_id}" for t, c, _, row_id in altered)
            if drop_unreadable:
                dropped += len(altered)
                log.warning("dropped %d altered secrets: %s", len(altered), where)
            else:
                log.error(
                    "%d stored secrets were altered and open with no key: %s. They stay as they"
                    " are (those gestores cannot sign in, those webhooks' deliveries fail); a"
                    " colleague can turn such a gestor's two-step off, *Novo segredo* replaces"
                    " a webhook's, or BALTO_SECRETS_DROP_UNREADABLE=1 drops them all at the next"
                    " start (README: Secrets at rest)",
                    len(altered),
                    where,
                )
        skip = {(t, c, row_id) for t, c, _, row_id in altered}
        sealed = 0
        if box.current is not None:
            current = f"{PREFIX}{box.current_id}.%"
            for table, column, purpose in COLUMNS:
                for row_id, stored in _rows(conn, table, column, current, like=False):
                    if (table, column, row_id) in skip:
                        continue
                    conn.execute(
                        sql.SQL("UPDATE {t} SET {c} = %s WHERE id = %s").format(
                            c=sql.Identifier(column), t=sql.Identifier(table)
                        ),
                        (box.seal(purpose, box.open(purpose, stored)), row_id),
                    )
                    sealed += 1
    return Resealed(sealed, dropped)


@contextlib.asynccontextmanager
async def sealed_at_rest(db: Database, box: Box, drop_unreadable: bool) -> AsyncIterator[None]:
    """The server's start step: `reseal` before anything reads a secret.

    Raises:
        ConfigError: As `reseal`.
    """
    done = await db.run(reseal, box, drop_unreadable)
    if done.sealed:
        log.info("sealed %d stored secrets under key %s", done.sealed, box.current_id)
    if box.current is not None:
        log.info("secrets at rest sealed under key %s", box.current_id)
    else:
        log.warning(
            "BALTO_SECRETS_KEY is not set: gestores' TOTP and webhook secrets are stored"
            " unsealed in the database (README: Secrets at rest)"
        )
    yield
