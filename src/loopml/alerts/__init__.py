"""Alert rules on monitor results, and their delivery to people and systems.

::

    from loopml.alerts import parse_condition, parse_destination, deliver

    parse_condition("accuracy < 0.8 for 2 windows")       # Condition(metric='accuracy', ...)
    hook = parse_destination("webhook", "https://hooks.example.com/ml", secret="...")
    deliver(hook, event)                                   # signed JSON, retried with backoff

Rules live with their monitor (``loopml.monitoring.Monitors.add_rule``); a
monitor run fires them (``fire_rules``) on its new windows, records each
firing as an event and delivers it: a generic webhook (JSON, HMAC-SHA256
signed, ``verify_signature`` for receivers) or a Slack incoming webhook.
"""

from loopml.alerts._conditions import (
    Condition,
    breached,
    condition_text,
    describe,
    parse_condition,
    should_fire,
)
from loopml.alerts._delivery import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Delivery,
    deliver,
    deliver_all,
    sign,
    verify_signature,
)
from loopml.alerts._destinations import Destination, allow_private_from_env, parse_destination
from loopml.alerts._firing import fire_rules

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Condition",
    "Delivery",
    "Destination",
    "allow_private_from_env",
    "breached",
    "condition_text",
    "deliver",
    "deliver_all",
    "describe",
    "fire_rules",
    "parse_condition",
    "parse_destination",
    "should_fire",
    "sign",
    "verify_signature",
]
