"""Crash reconciliation: sessions a dead server process left open are closed at the next start.

A session's row is closed by the process serving it (`balto.store.sessions.close_session`). A
process killed outright (SIGKILL, OOM, power) never does that, and the row would stay "live"
forever. `close_lost_sessions` runs once at start, before the server accepts devices: with one
Balto process per database no session can be live then, so every open row belongs to a dead
process. (Several instances on one database need a heartbeat per instance to tell whose sessions
are dead; this function is where that test would go.)

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
    SELECT id, started_at FROM sessions WHERE ended_at IS NULL FOR UPDATE
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


def close_lost_sessions(conn: psycopg.Connection) -> list[str]:
    """Close every session left open (see the module docstring); return their ids.

    Call it at start, before any device is accepted. One transaction: the pending segments of the
    sessions it closes are failed with `SERVER_LOST` in the same step.
    """
    params = {"dropped": _DROPPED, "code": LOST_CLOSE_CODE, "reason": SERVER_LOST}
    ids = [str(row[0]) for row in conn.execute(_CLOSE.encode(), params).fetchall()]
    if ids:
        conn.execute(
            "UPDATE segments SET status = 'failed', error = %s"
            " WHERE session_id = ANY(%s::uuid[]) AND status = 'pending'",
            (SERVER_LOST, ids),
        )
    return ids
