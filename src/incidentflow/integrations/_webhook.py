"""The ``webhook`` sink: a JSON POST signed as Standard Webhooks describe.

Headers ``webhook-id`` (the delivery's idempotency key, the same on every retry),
``webhook-timestamp`` (Unix seconds of this attempt) and, with ``secret_env`` naming a
``whsec_…`` secret, ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from incidentflow.errors import SinkConfigError

from ._payload import body
from ._sink import Message, Sent, Sink

if TYPE_CHECKING:
    import httpx

    from ._config import SinkConfig

__all__ = ["WebhookSink", "sign"]


def _key(secret: str) -> bytes:
    """The HMAC key a ``whsec_`` secret stands for (its base64 part, decoded)."""
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise SinkConfigError("a webhook secret must be whsec_ followed by base64") from None


def sign(secret: str, message_id: str, timestamp: int, payload: bytes) -> str:
    """The ``webhook-signature`` header value for one request.

    >>> sign("whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHM=", "msg_1", 1700000000, b"{}")
    'v1,...'
    """
    signed = f"{message_id}.{timestamp}.".encode() + payload
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


class WebhookSink(Sink):
    """POSTs every event it takes (and reminders, when asked) as signed JSON."""

    reminders = True

    def __init__(
        self,
        config: SinkConfig,
        *,
        client: httpx.Client | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(config, client=client, environ=environ)
        secret = self._secret("secret")
        if secret is not None:
            _key(secret.reveal())  # a malformed secret is refused at start-up, not per send

    def send(self, message: Message) -> Sent:
        """POST the event and the incident summary to the sink's URL."""
        url_secret = self._secret("url")
        url = url_secret.reveal() if url_secret is not None else str(self.config.settings["url"])
        payload = json.dumps(body(message), ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(message.now.timestamp())
        headers = {
            "content-type": "application/json",
            "webhook-id": message.key,
            "webhook-timestamp": str(timestamp),
        }
        secret = self._secret("secret")
        if secret is not None:
            headers["webhook-signature"] = sign(secret.reveal(), message.key, timestamp, payload)
        response = self.request("POST", url, content=payload, headers=headers, now=message.now)
        return Sent(summary=f"HTTP {response.status_code}")
