"""A front-end worker serves the requests that can end a segment first (`balto.audio.worker_loop`),
never a session's requests out of their order, and every request once under its own number."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import socket
import struct
import threading
import time
import wave
from pathlib import Path

from balto.audio.frontend import FrontEnd
from balto.audio.worker_loop import Backlog, serve

FIXTURES = Path(__file__).parent.parent / "fixtures"
SR = 16_000
PIECE = 8000  # 250 ms of s16le, a device chunk
SILENCE = bytes(PIECE)


def _pieces() -> list[bytes]:
    with wave.open(str(FIXTURES / "two_utterances.wav")) as w:
        pcm = w.readframes(w.getnframes())
    return [pcm[at : at + PIECE] for at in range(0, len(pcm), PIECE)]


def _first_cut(pieces: list[bytes]) -> int:
    """Index of the piece whose feeding cuts the clip's first segment."""
    front = FrontEnd(SR, 0.5)
    return next(k for k, piece in enumerate(pieces) if front.feed(piece))


def _primed(pieces: list[bytes], upto: int) -> FrontEnd:
    front = FrontEnd(SR, 0.5)
    for piece in pieces[:upto]:
        assert front.feed(piece) == []
    return front


def test_the_request_that_can_cut_goes_first_and_a_session_keeps_its_order() -> None:
    pieces = _pieces()
    k = _first_cut(pieces)
    speaking, idle = _primed(pieces, k), FrontEnd(SR, 0.5)
    idle.feed(SILENCE)
    assert speaking.segmenter.cut_after_s <= 0.25 < idle.segmenter.cut_after_s
    backlog = Backlog({1: speaking, 2: idle})
    backlog.add(0, "feed", 2, (SILENCE, False))
    backlog.add(1, "close", 3, None)
    backlog.add(2, "feed", 1, (pieces[k], False))  # can cut: served first
    backlog.add(3, "feed", 1, (pieces[k + 1], False))  # behind its own session's: not urgent
    backlog.add(4, "flush", 2, False)  # behind its session's request: in order too
    assert [backlog.take().seq for _ in range(5)] == [2, 0, 1, 3, 4]

    backlog.add(5, "feed", 2, (SILENCE, False))
    backlog.add(6, "flush", 1, False)  # a session's last segment: urgent
    backlog.add(7, "feed_opus", 1, ([], None, False, False, 0.25))  # its session waits: in order
    backlog.add(8, "feed_opus", 2, ([], None))  # malformed: in order, for `answer` to report
    assert [backlog.take().seq for _ in range(4)] == [6, 5, 7, 8]


def test_a_request_passed_over_long_enough_goes_next() -> None:
    pieces = _pieces()
    k = _first_cut(pieces)
    speaking = _primed(pieces, k)
    backlog = Backlog({1: speaking, 2: FrontEnd(SR, 0.5)})
    backlog.add(0, "feed", 2, (SILENCE, False))
    time.sleep(0.25)  # longer than the bound (0.2 s)
    backlog.add(1, "feed", 1, (pieces[k], False))
    assert [backlog.take().seq for _ in range(2)] == [0, 1]


def _frame(message: object) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return struct.pack("!i", len(data)) + data


def test_the_worker_loop_answers_the_cutting_request_first_over_its_socket() -> None:
    pieces = _pieces()
    k = _first_cut(pieces)
    parent, child = multiprocessing.Pipe()
    worker = threading.Thread(target=serve, args=(child,), daemon=True)
    worker.start()
    sock = socket.socket(fileno=os.dup(parent.fileno()))
    try:
        seq = 0
        setup = [("open", 1, ((SR, 0.5), {})), ("open", 2, ((SR, 0.5), {}))]
        setup += [("feed", 1, (piece, False)) for piece in pieces[:k]]
        for op, key, arg in setup:
            sock.sendall(_frame((seq, op, key, arg)))
            got_seq, ok, out = parent.recv()
            assert (got_seq, ok) == (seq, True)
            assert op == "open" or out[0] == []
            seq += 1
        # Three requests in one write: all on the socket when the worker picks.
        burst = [(seq, "feed", 2, (SILENCE, False)), (seq + 1, "feed", 2, (SILENCE, False))]
        burst.append((seq + 2, "feed", 1, (pieces[k], False)))
        sock.sendall(b"".join(_frame(request) for request in burst))
        replies = [parent.recv() for _ in burst]
        assert [reply[0] for reply in replies] == [seq + 2, seq, seq + 1]
        assert all(ok for _, ok, _ in replies)
        assert len(replies[0][2][0]) == 1  # the cut
        # A failing request is answered under its number, the loop goes on.
        sock.sendall(_frame((seq + 3, "feed", 99, (SILENCE, False))))
        assert parent.recv()[:2] == (seq + 3, False)
    finally:
        sock.close()
        parent.close()
        worker.join(timeout=5)
    assert not worker.is_alive()  # the loop ends when its connection closes


def test_an_embedding_waits_for_the_cuts_and_holds_back_none_of_its_session() -> None:
    pieces = _pieces()
    k = _first_cut(pieces)
    speaking = _primed(pieces, k)
    backlog = Backlog({1: speaking})
    backlog.add(0, "embed", 1, (pieces[k - 4] * 8, SR))  # the session's last segment's voice
    backlog.add(1, "feed", 1, (pieces[k], False))  # can cut: still urgent, served first
    assert [backlog.take().seq for _ in range(2)] == [1, 0]


def test_an_embedding_is_answered_with_its_voice_and_cpu() -> None:
    from balto.audio.worker_loop import Request, answer
    from balto.speaker import embedding_of

    speech = b"".join(_pieces()[4:16])  # 3 s of the clip's first utterance
    seq, ok, (voice, cpu) = answer(Request(7, "embed", 1, (speech, SR), 0.0, False), {}, {})
    assert (seq, ok) == (7, True) and embedding_of(voice) is not None and cpu > 0
    seq, ok, (voice, _) = answer(Request(8, "embed", 1, (SILENCE, SR), 0.0, False), {}, {})
    assert ok and voice is None  # too little speech: no embedding
    seq, ok, why = answer(Request(9, "embed", 1, None, 0.0, False), {}, {})  # malformed
    assert (seq, ok) == (9, False) and isinstance(why, str)
