"""Merchant webhooks: signed POSTs of order events to the merchant's endpoints, with retries.

The package reads in the order of a delivery's life, each module depending only on those before:

- :mod:`.addresses`: where a webhook may go (the SSRF checks, resolving a host once);
- :mod:`.endpoints`: the merchant's endpoints (create, read, list, delete);
- :mod:`.outbox`: the fan-out of an order event to subscribed endpoints, in the order's
  transaction, the event payload, and the delivery records;
- :mod:`.signing`: the ``BuyButton-Signature`` header;
- :mod:`.delivery`: the retry policy, one POST with a total deadline, and the leased worker.

The names below are the package's public API; import them from ``buybutton.webhooks``.
"""

from ..errors import AddressNotAllowed, DeliveryTimeout
from .addresses import (
    Resolver,
    address_problem,
    check_public_addresses,
    check_target,
    embedded_ipv4,
    resolve_host,
)
from .delivery import (
    EVENT_ID_HEADER,
    MAX_RESPONSE_BYTES,
    USER_AGENT,
    Deliverer,
    DeliveryReport,
    RetryPolicy,
    delivery_options,
    post_webhook,
    start_delivery_thread,
)
from .endpoints import (
    ALL_EVENTS,
    EVENT_TYPES,
    MAX_ENDPOINTS,
    MAX_URL_LENGTH,
    SECRET_PREFIX,
    WebhookEndpoint,
    create_endpoint,
    delete_endpoint,
    get_endpoint,
    list_endpoints,
    register_endpoint,
)
from .outbox import (
    DeliveryRecord,
    enqueue_deliveries,
    event_payload,
    list_deliveries,
    recent_deliveries,
    resend_delivery,
)
from .signing import SIGNATURE_HEADER, compute_signature, signature_header

__all__ = [
    "DeliveryRecord",
    "recent_deliveries",
    "resend_delivery",
    "ALL_EVENTS",
    "EVENT_ID_HEADER",
    "EVENT_TYPES",
    "MAX_ENDPOINTS",
    "MAX_RESPONSE_BYTES",
    "MAX_URL_LENGTH",
    "SECRET_PREFIX",
    "SIGNATURE_HEADER",
    "USER_AGENT",
    "AddressNotAllowed",
    "Deliverer",
    "DeliveryReport",
    "DeliveryTimeout",
    "Resolver",
    "RetryPolicy",
    "WebhookEndpoint",
    "address_problem",
    "check_public_addresses",
    "check_target",
    "compute_signature",
    "create_endpoint",
    "delete_endpoint",
    "delivery_options",
    "embedded_ipv4",
    "enqueue_deliveries",
    "event_payload",
    "get_endpoint",
    "list_deliveries",
    "list_endpoints",
    "post_webhook",
    "register_endpoint",
    "resolve_host",
    "signature_header",
    "start_delivery_thread",
]
