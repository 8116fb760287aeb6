"""Helpers shared by the test directories: real components on loopback and plain helpers.

- ``services``: skip (developer machine) or fail (CI) when a service is missing.
- ``accounts``: the test signing keys and a merchant with its API key.
- ``loopback``: a WSGI app served over real HTTP on 127.0.0.1.
- ``forms``: what a browser does with a page's form (hidden fields, the CSRF token).
- ``api_errors``: the one API error shape, asserted.
- ``webhook_receiver``: a real HTTP server recording the webhooks it receives.
- ``smtp_server``: a real SMTP server (aiosmtpd) on loopback.
- ``stripe_fake`` and its fixtures ``stripe_fixtures``: localstripe plus Checkout Sessions.
- ``mail_factories``, ``embedded_addresses``, ``funnel_migration``, ``rollups_migration``:
  shared data and checks.
- ``statements``: counts the statements and transactions a block sends (SQLAlchemy events).

Fixtures used across directories are registered once, as plugins, by ``tests/conftest.py``
(``pytest_plugins``); test modules import plain helpers only, never fixtures.
"""
