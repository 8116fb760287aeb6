"""The SDK unit tests' fake server address and API key (``responses`` intercepts the calls)."""

BASE = "https://buy.test"
API_KEY = "bb_sk_unit_test_key"
