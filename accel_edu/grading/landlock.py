"""Landlock: let a process write only beneath one directory, from the process itself.

Landlock is a Linux security module (5.13+) that any unprivileged process can use to take
rights away from itself for good. The grading worker calls :func:`restrict_writes` before it
runs a line of the submission, so from then on the submission

- cannot create, change or delete a file outside its working directory,
- cannot open a TCP connection or listen on a port (Landlock ABI 4+),
- cannot send a signal to, or ptrace, a process outside its sandbox, such as the grader
  (signals need ABI 6+; ptrace is scoped by every ABI).

Reading stays allowed: Python must import NumPy and Numba. Where the kernel has no Landlock,
:func:`restrict_writes` returns ``None`` and the other limits (a separate process, a fresh
directory, resource limits, a private pipe) still hold.
"""
from __future__ import annotations

import ctypes
import os
import platform

_SYS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}  # create_ruleset, add_rule, restrict_self
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# Filesystem rights, by the ABI version that introduced them.
_WRITE_FILE = 1 << 1
_WRITE_RIGHTS = {1: sum(1 << i for i in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12)),  # write, remove, make_*
                 2: 1 << 13,   # REFER (link or rename across directories)
                 3: 1 << 14,   # TRUNCATE
                 5: 1 << 15}   # IOCTL_DEV
_NET_RIGHTS = (1 << 0) | (1 << 1)          # BIND_TCP, CONNECT_TCP (ABI 4)
_SCOPES = (1 << 0) | (1 << 1)              # ABSTRACT_UNIX_SOCKET, SIGNAL (ABI 6)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel declares this struct packed
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The Landlock ABI this kernel offers, 0 when it offers none."""
    numbers = _SYS.get(platform.machine())
    if numbers is None:
        return 0
    try:
        version = _libc().syscall(numbers[0], None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def restrict_writes(writable: list[str], *, writable_files: tuple[str, ...] = ("/dev/null",)) -> str | None:
    """Allow writes only beneath the ``writable`` directories (and to ``writable_files``),
    forbid TCP and signals to the outside, for this process and every child it starts.

    Returns a short description of what was applied, or ``None`` when Landlock is absent.
    """
    abi = abi_version()
    if abi < 1:
        return None
    create, add_rule, restrict_self = _SYS[platform.machine()]
    libc = _libc()
    write = sum(bits for version, bits in _WRITE_RIGHTS.items() if version <= abi)
    attr = _RulesetAttr(handled_access_fs=write,  # reads and exec stay allowed everywhere
                        handled_access_net=_NET_RIGHTS if abi >= 4 else 0,
                        scoped=_SCOPES if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = libc.syscall(create, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    if ruleset < 0:
        return None
    try:
        dir_rights = write
        file_rights = _WRITE_FILE | (_WRITE_RIGHTS[3] if abi >= 3 else 0)
        for path, rights in [(p, dir_rights) for p in writable] + [(f, file_rights) for f in writable_files]:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                rule = _PathBeneathAttr(allowed_access=rights & write, parent_fd=fd)
                if libc.syscall(add_rule, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) < 0:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule({path}) failed")
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(restrict_self, ruleset, 0) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    parts = ["writes only in the sandbox"]
    if abi >= 4:
        parts.append("no TCP")
    if abi >= 6:
        parts.append("no signals outside")
    return f"landlock ABI {abi} ({', '.join(parts)})"
