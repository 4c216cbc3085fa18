"""The first code an untrusted process runs: limit itself, then serve the grader.

Started by :class:`accel_edu.grading.sandbox.Sandbox` as::

    python -I -B -c "<import this and call main()>" ROOT READ_FD WRITE_FD MODULE CONFIG_JSON

``-I`` keeps the child away from the grader's PYTHON* variables and user site; ROOT puts the
very accel_edu the grader runs first on ``sys.path``. Nothing of the submission has been
read yet when the limits go on.
"""
from __future__ import annotations

import faulthandler
import importlib
import json
import os
import sys

SERVERS = ("accel_edu.grading.worker", "accel_edu.grading.trusted_runner")


def main() -> None:
    read_fd, write_fd, module, config = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5])
    faulthandler.enable()  # a segfault prints the Python stack to stderr, which the grader keeps
    from .limits import apply_in_child
    from .channel import Channel
    applied = apply_in_child(config["limits"], os.getcwd(), tuple(config.get("writable", ())))
    if module not in SERVERS:
        raise SystemExit(f"unknown server module {module!r}")
    server = importlib.import_module(module)
    channel = Channel(read_fd, write_fd, allow_callables=True)
    channel.send({"event": "hello", "sandbox": applied, "pid": os.getpid()})
    server.serve(channel)


BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
        "from accel_edu.grading.bootstrap import main; main()")
