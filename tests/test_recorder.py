"""The recorder against real PostgreSQL and a real spool file: order, exactly once, the cap.

The outage itself is made real by pointing the recorder at a database that cannot be reached (a
pool on a socket nobody listens on); the spool left behind is then replayed by a recorder on the
test database, as the next process would.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest
import trio
from psycopg_pool import ConnectionPool

from balto.recorder import Event, Recorder, Spool
from balto.recorder.apply import apply_events
from balto.store import Database, open_database
from balto.store.advice import set_session_attendant
from balto.store.cadastro import create_balcao, create_cliente
from balto.store.database import DatabaseUnavailable
from balto.store.sessions import (
    ProviderCall,
    add_provider_call,
    add_segment,
    close_session,
    open_session,
    segment_transcribed,
)
from balto.web.metrics_recorder import RecorderCollector
from tests.conftest import query


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    async with open_database(database_url) as database:
        yield database


@contextlib.asynccontextmanager
async def _away() -> AsyncIterator[Database]:
    """A database handle on a socket directory where no server listens."""
    pool = ConnectionPool(
        "postgresql://x@/x?host=/nonexistent", min_size=1, open=False, timeout=0.2
    )
    pool.open(wait=False)
    try:
        yield Database(pool, trio.CapacityLimiter(2))
    finally:
        await trio.to_thread.run_sync(partial(pool.close, timeout=0))


async def _balcao(db: Database) -> str:
    codigo = await db.run(create_cliente, "a@b.c", "Rede", "11999999999")
    created = await db.run(create_balcao, codigo, "B1")
    assert created is not None
    return created[1]


def test_a_torn_last_line_is_cut_and_the_cursor_survives(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20)
    spool.open()
    events = [Event.of(segment_transcribed, (str(uuid.uuid4()), "oi", "x", None), {})] * 3
    assert spool.append(events) == 0
    read, offset = spool.read(2)
    spool.advance(offset, len(read))
    spool.close()
    with (tmp_path / "recorder.spool").open("ab") as file:
        file.write(b'{"id": "half a line')  # a crash mid-append

    again = Spool(tmp_path, 1 << 20)
    again.open()
    assert again.pending_events == 1
    rest, offset = again.read(10)
    assert [e.id for e in rest] == [events[2].id]
    again.advance(offset, 1)
    assert again.size == 0 and not (tmp_path / "recorder.cursor").exists()


def test_past_the_cap_events_are_dropped_and_counted(tmp_path: Path) -> None:
    event = Event.of(segment_transcribed, (str(uuid.uuid4()), "texto", "x", None), {})
    spool = Spool(tmp_path, len(event.to_line()) * 2)
    spool.open()
    assert spool.append([event, event, event]) == 1
    assert (spool.pending_events, spool.dropped) == (2, 1)


async def test_an_outage_spools_and_the_next_recorder_replays_exactly_once(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    balcao_id = await _balcao(db)
    session_id, segment_id = str(uuid.uuid4()), str(uuid.uuid4())
    # a pool on a socket directory with no server: every write meets "the database is away"
    async with _away() as away, trio.open_nursery() as nursery:
        recorder = Recorder(away, Spool(tmp_path, 1 << 20))
        await nursery.start(recorder.run)
        await recorder.record(open_session, session_id, balcao_id)
        await recorder.record(add_segment, segment_id, session_id, 0, 0.0, 1.0)
        call = ProviderCall("stt", "fake", "m", True, 120.0, 0.001, audio_seconds=1.0)
        await recorder.record(add_provider_call, call, session_id=session_id, segment_id=segment_id)
        await recorder.record(segment_transcribed, segment_id, "oi", "fake", "por")
        await recorder.record(
            close_session,
            session_id,
            audio_format="wav",
            audio_seconds=1.0,
            close_code=1000,
            close_reason=None,
        )
        assert recorder.stats().spool_events == 5 and recorder.stats().database_away
        await recorder.close()
    assert query(database_url, "SELECT count(*) FROM sessions") == [(0,)]

    # a batch that committed just before its connection died is in the spool too
    spool = Spool(tmp_path, 1 << 20)
    spool.open()
    first, _ = spool.read(3)
    spool.close()
    assert await db.run(apply_events, first) == 3

    async with trio.open_nursery() as nursery:
        recorder = Recorder(db, Spool(tmp_path, 1 << 20))
        await nursery.start(recorder.run)  # replays before it reports started
        assert recorder.stats().spool_bytes == 0 and recorder.stats().replayed == 5
        await recorder.close()
    assert query(database_url, "SELECT close_code, ended_at IS NOT NULL FROM sessions") == [
        (1000, True)
    ]
    assert query(database_url, "SELECT status, transcript FROM segments") == [("transcribed", "oi")]
    assert query(database_url, "SELECT count(*), min(latency_ms) FROM provider_calls") == [
        (1, 120.0)
    ]


async def test_events_name_only_store_functions_with_recordable_arguments(db: Database) -> None:
    with pytest.raises(TypeError):
        Event.of(create_cliente, ("a", "b", "c"), {})
    with pytest.raises(TypeError):
        Event.of(open_session, (object(), "x"), {})
    with pytest.raises(DatabaseUnavailable):
        async with _away() as away:
            await away.run(apply_events, [])


async def test_an_event_refused_for_its_content_is_skipped_and_its_batch_kept(
    db: Database, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    balcao_id = await _balcao(db)
    session_id, first, second = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    batch = [
        Event.of(open_session, (session_id, balcao_id), {}),
        Event.of(add_segment, (first, session_id, 0, 0.0, 1.0), {}),
        # a segment of a session that does not exist: the foreign key refuses it (a bug's event)
        Event.of(add_segment, (str(uuid.uuid4()), str(uuid.uuid4()), 1, 1.0, 2.0), {}),
        Event.of(add_segment, (second, session_id, 2, 2.0, 3.0), {}),
    ]
    assert await db.run(apply_events, batch) == 3
    assert "event refused and skipped" in caplog.text
    assert query(database_url, "SELECT id::text FROM segments ORDER BY seq") == [
        (first,),
        (second,),
    ]
    # a whole batch of good events goes in as it is, and again changes nothing (replayed)
    third = str(uuid.uuid4())
    good = [Event.of(add_segment, (third, session_id, 3, 3.0, 4.0), {})]
    assert await db.run(apply_events, good) == 1
    assert await db.run(apply_events, good) == 1
    assert query(database_url, "SELECT count(*) FROM segments") == [(3,)]


async def test_text_no_database_takes_is_skipped_and_spools_without_stopping_the_recorder(
    db: Database, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The edges refuse it (`balto.storable_text`); past them it costs one event, not the writer."""
    balcao_id = await _balcao(db)
    session_id = str(uuid.uuid4())
    unstorable = [
        Event.of(set_session_attendant, (session_id, "\ud800"), {}),  # not even UTF-8
        Event.of(set_session_attendant, (session_id, "Ana\x00"), {}),  # PostgreSQL refuses NUL
    ]
    lines = [event.to_line() for event in unstorable]
    assert [Event.from_line(line).args for line in lines] == [e.args for e in unstorable]
    spool = Spool(tmp_path, 1 << 20)
    spool.open()
    assert spool.append(unstorable) == 0

    batch = [
        Event.of(open_session, (session_id, balcao_id), {}),
        *unstorable,
        Event.of(set_session_attendant, (session_id, "Ana"), {}),
    ]
    assert await db.run(apply_events, batch) == 2
    assert caplog.text.count("event refused and skipped") == 2
    assert query(database_url, "SELECT atendente FROM sessions") == [("Ana",)]


_FULL_DISK = """
import resource, signal, sys, uuid
from pathlib import Path
from balto.recorder import Event, Spool
from balto.store.sessions import segment_transcribed

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails with EFBIG instead
spool = Spool(Path(sys.argv[1]), 1 << 20)
spool.open()
event = Event.of(segment_transcribed, (str(uuid.uuid4()), "oi " * 40, "x", None), {})
assert spool.append([event, event]) == 0
line = len(event.to_line())
resource.setrlimit(resource.RLIMIT_FSIZE, (spool.size + line // 2, resource.RLIM_INFINITY))
dropped = spool.append([event, event])  # half a line fits: written, then cut off again
resource.setrlimit(resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))
spool.advance(line, 1)  # nor a cursor file
print(dropped, spool.size, spool.pending_events, spool.dropped, spool.cursor == line)
"""


def test_a_disk_that_refuses_writes_drops_events_and_keeps_the_spool_whole(
    tmp_path: Path,
) -> None:
    """A spool write that fails (disk full, often with the database away) stopped the server."""
    # A real refusal from the kernel: a file-size limit, in a process of its own.
    done = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr
    dropped, size, pending, total, cursor_moved = done.stdout.split()
    data = (tmp_path / "recorder.spool").read_bytes()
    assert (int(dropped), int(size), int(pending), int(total)) == (2, len(data), 1, 2)
    assert data.count(b"\n") == 2 and data.endswith(b"\n")
    assert cursor_moved == "True" and not (tmp_path / "recorder.cursor").exists()
    assert "write failed" in done.stderr and "cursor not saved" in done.stderr


def test_a_spool_removed_from_under_the_process_is_replayed_and_made_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A temp cleaner or an operator removing the file stopped the recorder (and the server)."""
    spool = Spool(tmp_path / "data", 1 << 20)
    spool.open()
    events = [
        Event.of(segment_transcribed, (str(uuid.uuid4()), f"oi {n}", "x", None), {})
        for n in range(3)
    ]
    assert spool.append(events[:2]) == 0
    (tmp_path / "data" / "recorder.spool").unlink()
    read, offset = spool.read(10)  # replayed from the open file
    assert [e.id for e in read] == [e.id for e in events[:2]] and offset == spool.size

    shutil.rmtree(tmp_path / "data")  # the whole directory, cursor and all
    assert spool.append(events[2:]) == 0  # the file is made again, holding what waits
    assert "was removed while in use" in caplog.text
    spool.close()
    again = Spool(tmp_path / "data", 1 << 20)  # the next process
    again.open()
    assert again.pending_events == 3
    assert [e.id for e in again.read(10)[0]] == [e.id for e in events]


class _SpoolThatFailsOnce(Spool):
    """A spool whose first read raises what nobody foresaw (a stand-in for any bug below)."""

    failed = False

    def read(self, max_events: int) -> tuple[list[Event], int]:
        if not self.failed:
            self.failed = True
            raise RuntimeError("a bug below the recorder")
        return super().read(max_events)


async def test_an_unforeseen_failure_is_logged_and_survived_not_the_end_of_the_server(
    db: Database, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    balcao_id = await _balcao(db)
    session_id = str(uuid.uuid4())
    left = Spool(tmp_path, 1 << 20)  # an earlier process's outage
    left.open()
    left.append([Event.of(open_session, (session_id, balcao_id), {})])
    left.close()

    async with trio.open_nursery() as nursery:
        recorder = Recorder(db, _SpoolThatFailsOnce(tmp_path, 1 << 20))
        await nursery.start(recorder.run)  # its replay failed; it starts all the same
        # written behind the spool, which the loop replays first
        await recorder.record(set_session_attendant, session_id, "Ana")
        stats = recorder.stats()
        assert (stats.spool_events, stats.replayed, stats.faults) == (0, 1, 1)
        scraped = {m.name: m.samples[0].value for m in RecorderCollector(stats, True).collect()}
        assert scraped["balto_recorder_faults"] == 1
        await recorder.close()
    assert "unexpected failure" in caplog.text and "a bug below the recorder" in caplog.text
    assert query(database_url, "SELECT id::text, atendente FROM sessions") == [(session_id, "Ana")]
