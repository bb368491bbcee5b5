"""Aborting a connection whose peer stopped reading.

Hypercorn writes to sockets inside a shielded cancel scope (STACK-NOTES Q2), so a device that
stops reading can hold a send — and with it its handler and the server's shutdown — until the
kernel gives up. `TCP_USER_TIMEOUT` bounds that eventually; this module bounds it on our terms:
it finds our own socket for the connection (by its local and peer address, from the ASGI scope)
and shuts it down, which wakes the blocked send with an error that Hypercorn handles as a close.
Linux only (it reads ``/proc/self/fd``); elsewhere it finds nothing and `TCP_USER_TIMEOUT` rules.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import stat

log = logging.getLogger(__name__)

Address = tuple[str, int]


def _address(raw: object) -> Address | None:
    if isinstance(raw, list | tuple) and len(raw) >= 2:
        host, port = raw[0], raw[1]
        if isinstance(host, str) and isinstance(port, int):
            return host, port
    return None


def abort_connection(local: object, peer: object) -> bool:
    """Shut down this process's TCP socket from `local` to `peer`; True if one was found."""
    here, there = _address(local), _address(peer)
    if here is None or there is None:
        return False
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return False
    for name in names:
        try:
            fd = int(name)
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            dup = socket.socket(fileno=os.dup(fd))
        except (OSError, ValueError):
            continue
        with dup:
            try:
                if dup.type != socket.SOCK_STREAM or dup.family not in (
                    socket.AF_INET,
                    socket.AF_INET6,
                ):
                    continue
                if dup.getsockname()[:2] != here or dup.getpeername()[:2] != there:
                    continue
            except OSError:
                continue
            with contextlib.suppress(OSError):
                dup.shutdown(socket.SHUT_RDWR)
            log.warning("aborted the connection to %s:%d: the device stopped reading", *there)
            return True
    return False
