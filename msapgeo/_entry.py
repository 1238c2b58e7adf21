"""Entry point of the ``msapgeo`` command: a clean exit on Ctrl-C, even during start-up."""

from __future__ import annotations

import signal
import sys


def run() -> None:
    """Import the command line and run it; exit 130 with one line when interrupted."""
    try:
        from msapgeo.cli import main

        code = main()
    except KeyboardInterrupt:
        print("msapgeo: interrupted; earlier outputs are left as they were", file=sys.stderr)
        code = 130
    # the work is done (or abandoned cleanly): an interrupt while Python shuts down must
    # not turn a finished run into a crash
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
