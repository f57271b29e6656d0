"""The integration commands: ``dispatch`` and ``deliveries``.

``dispatch`` delivers the store's events to the sinks; ``deliveries`` shows what is still
owed to them and retries or discards it.

Their parsers are declared here with the handlers, so the entry point registers them in one
line; the library is imported only when a command runs.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from incidentflow.integrations import Delivery

    from ._main import Options
    from ._parser import _Commands

__all__ = ["HANDLERS", "add_commands"]

_UNDONE = ("pending", "failed", "dead")


def add_commands(commands: _Commands) -> None:
    """Declare ``dispatch`` and ``deliveries`` on the command line's parser."""
    p = commands.add(
        "dispatch",
        "deliver the store's events to the configured sinks (Slack, Jira, PagerDuty, ...)",
        "incidentflow dispatch --follow --config sinks.toml",
        handler="dispatch",
    )
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--once", action="store_true", help="deliver what is due, then exit")
    mode.add_argument("--follow", action="store_true", help="run until stopped (SIGTERM or Ctrl-C)")
    p.add_argument(
        "--config",
        metavar="FILE",
        help="the sinks file (default: $INCIDENTFLOW_CONFIG)",
    )
    p.add_argument(
        "--max-wait",
        metavar="SECONDS",
        type=float,
        default=0.0,
        help="with --once, wait up to SECONDS in all for retries falling due (default 0)",
    )
    p.add_argument(
        "--poll",
        metavar="SECONDS",
        type=float,
        default=1.0,
        help="with --follow, the longest sleep between looks at the store (default 1)",
    )
    p = commands.add(
        "deliveries",
        "list deliveries still owed to sinks (pending, failed, dead); retry or discard them",
        "incidentflow deliveries retry msg_0f3c…",
        handler="deliveries",
    )
    p.add_argument(
        "action",
        nargs="?",
        choices=("list", "retry", "discard"),
        default="list",
        help="list (default), retry or discard",
    )
    p.add_argument("keys", nargs="*", metavar="KEY", help="the deliveries to retry or discard")
    p.add_argument(
        "--status",
        action="append",
        choices=("pending", "failed", "dead", "delivered", "discarded"),
        help="list only these statuses (repeatable; default: pending, failed and dead)",
    )
    p.add_argument("--sink", metavar="NAME", help="only this sink's deliveries")
    p.add_argument("--incident", metavar="ID", help="only this incident's deliveries")
    p.add_argument("--dead", action="store_true", help="retry or discard every dead delivery")


def dispatch(options: Options) -> int:
    """Run the dispatcher once, or until SIGTERM or SIGINT."""
    import json
    import logging
    import signal
    import threading

    from incidentflow.integrations import Dispatcher, load_config
    from incidentflow.store import open_store

    from ._main import EXIT_BAD_INPUT, EXIT_OK, Failure

    args = options.args
    if args.max_wait < 0 or args.poll <= 0:
        raise Failure(EXIT_BAD_INPUT, "InvalidInput", "--max-wait and --poll take seconds > 0")
    config = load_config(args.config)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("incidentflow dispatch: %(message)s"))
    log = logging.getLogger("incidentflow.integrations")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    stop = threading.Event()

    def graceful(signum: int, frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, graceful) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        with (
            open_store(options.db, chain_key=options.chain_key) as store,
            Dispatcher(store, config) as dispatcher,
        ):
            if args.follow:
                summary = dispatcher.follow(stop, poll=args.poll)
            else:
                summary = dispatcher.run_once(max_wait=args.max_wait, stop=stop)
            waiting = len(dispatcher.outbox.deliveries(statuses=_statuses(_UNDONE)))
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        log.removeHandler(handler)
    counts = {
        "enqueued": summary.enqueued,
        "reminders": summary.reminders,
        "delivered": summary.delivered,
        "failed": summary.failed,
        "dead": summary.dead,
        "undelivered": waiting,
    }
    if options.json:
        print(json.dumps(counts))
    else:
        print(", ".join(f"{value} {name}" for name, value in counts.items()))
    return EXIT_OK


def _statuses(names: Any) -> list[Any]:
    from incidentflow.integrations import Status

    return [Status(name) for name in names]


def _line(delivery: Delivery) -> str:
    from incidentflow.documents._markup import inline

    due = (
        f" next {delivery.next_attempt_at:%Y-%m-%d %H:%M:%S}Z"
        if delivery.status.value == "failed"
        else ""
    )
    error = f" — {inline(delivery.last_error)}" if delivery.last_error else ""
    return (
        f"{delivery.key}  {inline(delivery.sink)}  {inline(delivery.incident_id)} "
        f"v{delivery.version} {delivery.kind}  {delivery.status.value} "
        f"({delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}){due}{error}"
    )


def deliveries(options: Options) -> int:
    """List, retry or discard deliveries."""
    import json

    from incidentflow.integrations import Outbox, Status
    from incidentflow.store import open_store

    from ._main import EXIT_BAD_INPUT, EXIT_OK, Failure, now

    args = options.args
    with open_store(options.db, read_only=True, chain_key=options.chain_key):
        pass  # a store that is not there is reported, not created
    with open_store(options.db, chain_key=options.chain_key) as store:
        outbox = Outbox(store)
        if args.action == "list":
            if args.keys or args.dead:
                raise Failure(EXIT_BAD_INPUT, "InvalidInput", "list takes no KEY and no --dead")
            found = outbox.deliveries(
                statuses=_statuses(args.status or _UNDONE),
                sink=args.sink,
                incident_id=args.incident,
            )
            if options.json:
                print(json.dumps([d.to_dict() for d in found], ensure_ascii=False, indent=2))
            elif not found:
                print("no deliveries")
            else:
                for delivery in found:
                    print(_line(delivery))
            return EXIT_OK
        keys = list(args.keys)
        if args.dead:
            keys += [d.key for d in outbox.deliveries(statuses=[Status.DEAD], sink=args.sink)]
        if not keys:
            raise Failure(
                EXIT_BAD_INPUT,
                "InvalidInput",
                f"name the deliveries to {args.action} (KEY ...), or give --dead",
            )
        change: Callable[..., list[str]] = (
            outbox.retry if args.action == "retry" else outbox.discard
        )
        done = change(keys, now=now(options))
    if options.json:
        print(json.dumps({args.action: done}))
    else:
        verb = "will be retried" if args.action == "retry" else "discarded"
        print(f"{len(done)} deliver{'y' if len(done) == 1 else 'ies'} {verb}")
    return EXIT_OK


HANDLERS: dict[str, Callable[[Options], int]] = {"dispatch": dispatch, "deliveries": deliveries}
"""Each integration command's handler, by name."""
