"""buybutton-sdk: the Python client of a buybutton server's merchant API.

from buybutton_sdk import Client
bb = Client(api_key="bb_sk_…", base_url="https://buy.example.com")
product = bb.products.create(name="Mug", amount=1200, currency="eur", stock=50)
token = bb.tokens.create(product.id, ref="insta-post-42")
print(token.share_url)
"""

from ._version import __version__
from .client import Client
from .errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BuyButtonError,
    CardError,
    ConflictError,
    GoneError,
    IdempotencyError,
    InvalidRequestError,
    InvalidTokenError,
    NotFoundError,
    PaymentProviderError,
    ProductUnavailableError,
    RateLimitError,
    SignatureVerificationError,
    SoldOutError,
    TokenExpiredError,
    TokenRevokedError,
)
from .models import (
    Address,
    APIObject,
    Customer,
    DeletedObject,
    Event,
    Fulfillment,
    License,
    Merchant,
    Order,
    OrderShipping,
    Product,
    ProductFile,
    ReturnPolicy,
    Stats,
    Token,
    WebhookEndpoint,
)
from .pagination import ListIterator, Page
from .webhooks import Webhooks, construct_event, generate_signature_header

__all__ = [
    "__version__",
    "Client",
    "BuyButtonError",
    "AuthenticationError",
    "InvalidRequestError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "APIConnectionError",
    "APIError",
    "SignatureVerificationError",
    "CardError",
    "GoneError",
    "TokenExpiredError",
    "TokenRevokedError",
    "ProductUnavailableError",
    "InvalidTokenError",
    "SoldOutError",
    "IdempotencyError",
    "PaymentProviderError",
    "APIObject",
    "Merchant",
    "Product",
    "Stats",
    "ProductFile",
    "License",
    "Token",
    "Order",
    "Customer",
    "Address",
    "OrderShipping",
    "Fulfillment",
    "ReturnPolicy",
    "WebhookEndpoint",
    "Event",
    "DeletedObject",
    "ListIterator",
    "Page",
    "Webhooks",
    "construct_event",
    "generate_signature_header",
]
