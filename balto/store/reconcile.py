"""Crash reconciliation: sessions a dead server process left open are closed at the next start.

A session's row is closed by the process serving it (`balto.store.sessions.close_session`). A
process killed outright (SIGKILL, OOM, power) never does that, and the row would stay "live"
forever. `close_lost_sessions` runs once at start, before the server accepts devices: with the
embedded database (one Balto process per database) no session can be live then, so every open row
belongs to a dead process. With several instances on one database only the sessions of dead
instances may be closed: `close_sessions_of` closes the open sessions of the instances named (a
dead instance's, or this instance's previous incarnation under the same ``BALTO_INSTANCE_ID``)
and those no live instance claims (`balto.store.cluster` decides who is dead from heartbeats).

What a lost session gets, from what was stored while it ran:
- ``close_code`` 1006 (the device saw its connection drop without a close frame) and
  ``close_reason`` ``server lost`` (`SERVER_LOST`);
- ``ended_at``: the last moment anything of it was stored (segments, recommendations, provider
  calls), or its start — a lower bound; the process may have lived on a little;
- ``segments_emitted``: its stored segments; ``segments_dropped``: those stored as dropped by a
  full link; segments still ``pending`` become ``failed`` with ``server lost``;
- ``audio_seconds``: at least the end of its last segment; ``restarts`` stays NULL (only the
  dead process knew it).
"""

from __future__ import annotations

import psycopg

SERVER_LOST = "server lost"
LOST_CLOSE_CODE = 1006  # what the device saw: the connection dropped without a close frame
# `supervisors.links.Link` stores a dropped segment's error as "<link> full (<n>): oldest dropped"
_DROPPED = "% full (%): oldest dropped"

_CLOSE = """
WITH lost AS (
    SELECT id, started_at FROM sessions WHERE ended_at IS NULL AND ({where}) FOR UPDATE
), facts AS (
    SELECT l.id,
        greatest(
            l.started_at,
            (SELECT max(greatest(g.created_at, g.transcribed_at)) FROM segments g
              WHERE g.session_id = l.id),
            (SELECT max(greatest(r.created_at, r.sent_at, r.feedback_at)) FROM recommendations r
              WHERE r.session_id = l.id),
            (SELECT max(p.created_at) FROM provider_calls p WHERE p.session_id = l.id)
        ) AS last_seen,
        (SELECT count(*) FROM segments g WHERE g.session_id = l.id) AS emitted,
        (SELECT count(*) FROM segments g
          WHERE g.session_id = l.id AND g.status = 'failed' AND g.error LIKE %(dropped)s)
          AS dropped,
        (SELECT max(g.audio_end) FROM segments g WHERE g.session_id = l.id) AS audio_end
    FROM lost l
)
UPDATE sessions s SET
    ended_at = f.last_seen,
    close_code = %(code)s,
    close_reason = %(reason)s,
    segments_emitted = f.emitted,
    segments_dropped = f.dropped,
    audio_seconds = greatest(s.audio_seconds, coalesce(f.audio_end, 0))
FROM facts f WHERE s.id = f.id
RETURNING s.id
"""


# An open session belongs to a dead process when its instance is named, or is no longer in the
# `instances` table (reaped, or from before instances were recorded); never to `alive`.
_OF_INSTANCES = """
(instance_id = ANY(%(dead)s) OR instance_id IS NULL
 OR NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = sessions.instance_id))
AND instance_id IS DISTINCT FROM %(alive)s
"""


def close_lost_sessions(conn: psycopg.Connection) -> list[str]:
    """Close every session left open (see the module docstring); return their ids.

    Call it at start, before any device is accepted, when this process is the database's only
    user (the embedded database). One transaction: the pending segments of the sessions it closes
    are failed with `SERVER_LOST` in the same step.
    """
    return _close(conn, "true", {})


def close_sessions_of(conn: psycopg.Connection, dead: list[str], alive: str) -> list[str]:
    """Close the open sessions of the `dead` instances and of no known instance; return their ids.

    `alive` is the calling instance: its sessions are never closed here (it may serve them now).
    The caller holds the dead instances' rows locked in the same transaction.
    """
    return _close(conn, _OF_INSTANCES, {"dead": dead, "alive": alive})


def _close(conn: psycopg.Connection, where: str, extra: dict[str, object]) -> list[str]:
    params = {"dropped": _DROPPED, "code": LOST_CLOSE_CODE, "reason": SERVER_LOST, **extra}
    sql = _CLOSE.replace("{where}", where)
    ids = [str(row[0]) for row in conn.execute(sql.encode(), params).fetchall()]
    if ids:
        conn.execute(
            "UPDATE segments SET status = 'failed', error = %s"
            " WHERE session_id = ANY(%s::uuid[]) AND status = 'pending'",
            (SERVER_LOST, ids),
        )
    return ids
