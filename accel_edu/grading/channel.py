"""Frames over a pair of pipes, with a deadline on every read and write.

The grader's side is non-blocking: a worker stuck in a loop never drains its pipe, and a
blocking write of a large input would hang the grader with it. Frames are read straight into
one buffer and written with ``writev`` from the arrays' own memory, so a megabyte of inputs
costs well under a millisecond of copying (the speed parts time these round trips).
"""
from __future__ import annotations

import os
import select
import time

from .protocol import _PREFIX, MAGIC, MAX_FRAME_BYTES, ProtocolError, decode, encode_buffers


class ChannelClosed(Exception):
    """The other end closed the pipe (the worker exited or died)."""


class Timeout(Exception):
    """No complete message arrived before the deadline."""


class Channel:
    """Send and receive frames over a pair of pipe fds, with deadlines on both directions.

    The grader's side sets ``nonblocking=True``: a worker stuck in a loop never drains its
    pipe, and a blocking write of a large input would hang the grader with it.
    """

    def __init__(self, read_fd: int, write_fd: int, *, nonblocking: bool = False,
                 allow_callables: bool = False, max_frame: int = MAX_FRAME_BYTES):
        self.read_fd, self.write_fd = read_fd, write_fd
        self.allow_callables = allow_callables
        self.max_frame = max_frame
        for fd in (read_fd, write_fd):
            _grow_pipe(fd)
        if nonblocking:
            os.set_blocking(read_fd, False)
            os.set_blocking(write_fd, False)
        self.nonblocking = nonblocking

    def send(self, value, deadline: float | None = None) -> None:
        buffers = [memoryview(b) for b in encode_buffers(value) if len(b)]
        while buffers:
            if self.nonblocking:
                _wait(self.write_fd, select.POLLOUT, deadline)
            try:
                n = os.writev(self.write_fd, buffers[:64])
            except BlockingIOError:
                continue
            except OSError as exc:  # BrokenPipeError and friends: the other end is gone
                raise ChannelClosed(str(exc)) from None
            while n and buffers:  # drop what was written, keep the rest
                if n >= len(buffers[0]):
                    n -= len(buffers[0])
                    buffers.pop(0)
                else:
                    buffers[0] = buffers[0][n:]
                    n = 0

    def recv(self, deadline: float | None = None):
        prefix = self._read_exactly(_PREFIX.size, deadline)
        magic, length = _PREFIX.unpack(prefix)
        if magic != MAGIC:
            raise ProtocolError("frame does not start with the protocol's magic bytes")
        if length > self.max_frame:
            raise ProtocolError(f"frame of {length} bytes is larger than the limit of {self.max_frame}")
        return decode(self._read_exactly(length, deadline), allow_callables=self.allow_callables)

    def _read_exactly(self, n: int, deadline: float | None) -> bytes:
        buffer = bytearray(n)  # filled in place: no copy per chunk, however large the frame
        view, got = memoryview(buffer), 0
        while got < n:
            if self.nonblocking:
                _wait(self.read_fd, select.POLLIN, deadline)
            try:
                k = os.readv(self.read_fd, [view[got:]])
            except BlockingIOError:
                continue
            except OSError as exc:
                raise ChannelClosed(str(exc)) from None
            if k == 0:
                raise ChannelClosed("end of file")
            got += k
        return bytes(buffer) if n < 4096 else buffer

    def close(self) -> None:
        for fd in {self.read_fd, self.write_fd}:
            try:
                os.close(fd)
            except OSError:
                pass


def _grow_pipe(fd: int, size: int = 1 << 20) -> None:
    """A 1 MB pipe instead of 64 KB: an exercise's arrays cross in one or two writes."""
    try:
        import fcntl
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except OSError:
        pass  # over /proc/sys/fs/pipe-max-size, or not a pipe: the default works, more slowly


def _wait(fd: int, event: int, deadline: float | None) -> None:
    poller = select.poll()
    poller.register(fd, event | select.POLLHUP | select.POLLERR)
    while True:
        timeout_ms = None if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
        if poller.poll(timeout_ms):
            return
        if deadline is not None and time.monotonic() >= deadline:
            raise Timeout()
