"""Integrations: the store's events delivered to Slack, Jira, PagerDuty, Statuspage, webhooks.

An optional part (``pip install 'incidentflow[integrations]'``, which brings httpx): the
core never imports it.  The store's event log is the outbox; a :class:`Dispatcher`
(``incidentflow dispatch``) follows it after the commands have committed, so nothing a
receiver does can block, slow or roll back an incident.  See docs/integrations.md.
"""

from ._config import CONFIG_VARIABLE as CONFIG_VARIABLE
from ._config import SINK_TYPES as SINK_TYPES
from ._config import Config as Config
from ._config import Filter as Filter
from ._config import Secret as Secret
from ._config import SinkConfig as SinkConfig
from ._config import load_config as load_config
from ._config import parse_config as parse_config
from ._dispatcher import SINKS as SINKS
from ._dispatcher import Dispatcher as Dispatcher
from ._dispatcher import Summary as Summary
from ._dispatcher import build_sink as build_sink
from ._jira import JiraSink as JiraSink
from ._jira import adf as adf
from ._outbox import Delivery as Delivery
from ._outbox import Outbox as Outbox
from ._outbox import Status as Status
from ._outbox import delivery_key as delivery_key
from ._pagerduty import SEVERITY as SEVERITY
from ._pagerduty import PagerDutySink as PagerDutySink
from ._python import PythonSink as PythonSink
from ._retry import RetryPolicy as RetryPolicy
from ._sink import Message as Message
from ._sink import Reminder as Reminder
from ._sink import Sent as Sent
from ._sink import Sink as Sink
from ._slack import SlackSink as SlackSink
from ._statuspage import COMPONENT_STATUS as COMPONENT_STATUS
from ._statuspage import PAGE_STATUS as PAGE_STATUS
from ._statuspage import StatuspageSink as StatuspageSink
from ._webhook import WebhookSink as WebhookSink
from ._webhook import sign as sign

__all__ = [
    "COMPONENT_STATUS",
    "CONFIG_VARIABLE",
    "Config",
    "Delivery",
    "Dispatcher",
    "Filter",
    "JiraSink",
    "Message",
    "Outbox",
    "PAGE_STATUS",
    "PagerDutySink",
    "PythonSink",
    "Reminder",
    "RetryPolicy",
    "SEVERITY",
    "SINKS",
    "SINK_TYPES",
    "Secret",
    "Sent",
    "Sink",
    "SinkConfig",
    "SlackSink",
    "Status",
    "StatuspageSink",
    "Summary",
    "WebhookSink",
    "adf",
    "build_sink",
    "delivery_key",
    "load_config",
    "parse_config",
    "sign",
]
