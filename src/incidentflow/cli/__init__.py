"""The ``incidentflow`` command line: incidents driven from a terminal, kept in a store.

Only wires the core and the store together; every rule lives in the core.  Exit codes: 0 ok,
1 refused by a rule, 2 bad input or usage, 3 conflict, 4 not found, 5 store problem.  Start-up
stays light: this package imports only :mod:`argparse` until a command runs.
"""

from ._main import main as main

__all__ = ["main"]
