"""EEVDF's per-task slice (Linux ≥ 6.12): ``sched_setattr`` with ``sched_runtime`` on a
``SCHED_OTHER`` thread sets the slice the fair scheduler gives it; a shorter one gives the thread
an earlier virtual deadline when it wakes, so it preempts a running task sooner, with its CPU
share (weight) unchanged. CPython exports no wrapper, hence the raw syscall (x86-64 numbers).
"""

from __future__ import annotations

import ctypes
import os
import struct
from pathlib import Path

_SETATTR, _GETATTR = 314, 315  # x86-64
_ATTR = "IIQiIQQQII"  # struct sched_attr, SCHED_ATTR_SIZE_VER1 (56 bytes)
_libc = ctypes.CDLL(None, use_errno=True)


def slice_ns(tid: int) -> int:
    """The thread's current slice in ns (0: the calling thread)."""
    buf = ctypes.create_string_buffer(56)
    if _libc.syscall(_GETATTR, tid, buf, 56, 0):
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return int(struct.unpack(_ATTR, buf.raw)[5])


def set_slice(tid: int, ns: int) -> None:
    """Give thread `tid` a slice of `ns` (0: back to the default), policy SCHED_OTHER, nice 0."""
    buf = ctypes.create_string_buffer(struct.pack(_ATTR, 56, 0, 0, 0, 0, ns, 0, 0, 0, 0), 56)
    if _libc.syscall(_SETATTR, tid, buf, 0):
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def set_process_slice(pid: int, ns: int) -> list[int]:
    """Every thread of process `pid` gets slice `ns` (threads it starts later inherit it from
    their creator); returns the threads' ids."""
    tids = [int(t.name) for t in Path(f"/proc/{pid}/task").iterdir()]
    for tid in tids:
        set_slice(tid, ns)
    return tids
