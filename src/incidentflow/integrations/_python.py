"""The ``python`` sink: a function of the embedder's, named ``module:function``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from incidentflow.errors import DeliveryFailed, SinkConfigError

from ._sink import Message, Sent, Sink

if TYPE_CHECKING:
    import httpx

    from ._config import SinkConfig

__all__ = ["PythonSink", "resolve"]


def resolve(reference: str) -> Callable[[Message], object]:
    """The callable ``module:function`` names; SinkConfigError if there is none.

    >>> resolve("json:dumps").__name__
    'dumps'
    """
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise SinkConfigError(f"function must be written module:function, not {reference!r}")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise SinkConfigError(f"cannot find {reference!r}: {exc}") from exc
    if not callable(target):
        raise SinkConfigError(f"{reference!r} is not callable")
    return cast("Callable[[Message], object]", target)


class PythonSink(Sink):
    """Calls the function with each :class:`Message`; what it raises is retried.

    The function may return a :class:`Sent` (to keep state or record links) or anything
    else; it may raise :class:`~incidentflow.errors.DeliveryFailed` with ``retryable=False``
    to make the delivery a dead letter at once.
    """

    reminders = True

    def __init__(
        self,
        config: SinkConfig,
        *,
        client: httpx.Client | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(config, client=client, environ=environ)
        self._function = resolve(str(config.settings["function"]))

    def send(self, message: Message) -> Sent | None:
        """Call the function with the message."""
        try:
            result = self._function(message)
        except DeliveryFailed:
            raise
        except Exception as exc:
            raise DeliveryFailed(self.redact(f"{type(exc).__name__}: {exc}")) from None
        return result if isinstance(result, Sent) else Sent(summary="called")
