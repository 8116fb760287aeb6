import stat

import pytest

from buybutton.config import ConfigError, load_settings


def test_defaults_make_the_demo_work(tmp_path):
    settings = load_settings({"BUYBUTTON_HOME": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'buybutton.sqlite3'}"
    assert settings.payment_provider == "sandbox"
    assert settings.checkout_ttl_seconds == 1800


def test_generated_secret_key_is_private_and_survives_restarts(tmp_path):
    first = load_settings({"BUYBUTTON_HOME": str(tmp_path)}).secret_keys
    again = load_settings({"BUYBUTTON_HOME": str(tmp_path)}).secret_keys
    assert first == again and len(first[0]) >= 48
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_secret_keys_are_a_comma_separated_list_newest_last(tmp_path):
    settings = load_settings({"BUYBUTTON_HOME": str(tmp_path), "BUYBUTTON_SECRET_KEYS": "old, new"})
    assert settings.secret_keys == ("old", "new")
    assert not (tmp_path / "secret_key").exists()


def test_stripe_key_selects_stripe(tmp_path):
    settings = load_settings({"BUYBUTTON_HOME": str(tmp_path), "STRIPE_SECRET_KEY": "sk_test_x"})
    assert settings.payment_provider == "stripe"


@pytest.mark.parametrize(
    "env",
    [
        {"BUYBUTTON_SECRET_KEYS": " , "},
        {"BUYBUTTON_CHECKOUT_TTL_SECONDS": "soon"},
        {"BUYBUTTON_TRUSTED_PROXIES": "two"},
        {"BUYBUTTON_TRUSTED_PROXIES": "\u00b2"},
        {"BUYBUTTON_PUBLIC_URL": "buy.example.com"},
        {"BUYBUTTON_PUBLIC_URL": "https://buy.example.com/shop"},
        {"BUYBUTTON_PUBLIC_URL": "https://buy.example.com?x"},
        {"BUYBUTTON_PUBLIC_URL": "https://buy.example.com#top"},
        {"BUYBUTTON_PUBLIC_URL": "ftp://buy.example.com"},
        {"BUYBUTTON_PUBLIC_URL": "https://a@buy.example.com"},
        {"BUYBUTTON_PUBLIC_URL": "https://buy.example.com:99999"},
        {"BUYBUTTON_PUBLIC_URL": "https://buy.example.com:"},
        {"BUYBUTTON_PUBLIC_URL": "https://buy example.com"},
        {"BUYBUTTON_PUBLIC_URL": " https://buy.example.com"},
        {"BUYBUTTON_PUBLIC_URL": "https://"},
        {"BUYBUTTON_ALLOWED_HOSTS": "buy.example.com:8000"},
        {"BUYBUTTON_ALLOWED_HOSTS": "*"},
        {"BUYBUTTON_ALLOWED_HOSTS": "https://buy.example.com"},
        {"BUYBUTTON_FEED_LINK_TTL_SECONDS": "3600"},
        {"BUYBUTTON_FEED_LINK_TTL_SECONDS": "forever"},
        {"BUYBUTTON_SHARE_LINK_TTL_SECONDS": str(91 * 86400)},
    ],
)
def test_bad_settings_are_clear_errors(tmp_path, env):
    with pytest.raises(ConfigError):
        load_settings({"BUYBUTTON_HOME": str(tmp_path), **env})


def test_settings_keep_secrets_out_of_their_repr(tmp_path):
    settings = load_settings(
        {
            "BUYBUTTON_HOME": str(tmp_path),
            "BUYBUTTON_SECRET_KEYS": "old-key,new-key",
            "STRIPE_SECRET_KEY": "sk_test_hush",
            "STRIPE_WEBHOOK_SECRET": "whsec_hush",
        }
    )
    assert settings.secret_keys == ("old-key", "new-key")
    for secret in ("old-key", "new-key", "sk_test_hush", "whsec_hush"):
        assert secret not in repr(settings)


def test_the_default_home_is_the_user_data_folder_whatever_the_current_folder(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for where in ("a", "b"):
        (tmp_path / where).mkdir()
        monkeypatch.chdir(tmp_path / where)
        settings = load_settings({})
        home = tmp_path / "data" / "buybutton"
        assert settings.home == home
        assert settings.database_url == f"sqlite:///{home / 'buybutton.sqlite3'}"
    assert load_settings({"BUYBUTTON_HOME": str(tmp_path / "mine")}).home == tmp_path / "mine"


def test_reading_the_settings_creates_nothing(tmp_path):
    home = tmp_path / "home"
    settings = load_settings({"BUYBUTTON_HOME": str(home)})
    assert not home.exists()
    assert len(settings.secret_keys[-1]) >= 48  # made when first used, in a private folder
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert "secret_key" in repr(settings.secret_keys)
    assert settings.secret_keys[-1] not in repr(settings)


@pytest.mark.parametrize("raw, units", [(None, 20), ("0", 0), ("50", 50)])
def test_held_units_cap_is_configurable(tmp_path, raw, units):
    env = {"BUYBUTTON_HOME": str(tmp_path)}
    if raw is not None:
        env["BUYBUTTON_MAX_HELD_UNITS_PER_CLIENT"] = raw
    assert load_settings(env).max_held_units_per_client == units


@pytest.mark.parametrize("raw", ["many", "-1", "1.5", "\u00b2", "1000001"])
def test_bad_held_units_cap_is_a_clear_error(tmp_path, raw):
    with pytest.raises(ConfigError, match="BUYBUTTON_MAX_HELD_UNITS_PER_CLIENT"):
        load_settings({"BUYBUTTON_HOME": str(tmp_path), "BUYBUTTON_MAX_HELD_UNITS_PER_CLIENT": raw})


@pytest.mark.parametrize(
    "raw, rate",
    [
        (None, "120/minute"),
        ("", "120/minute"),
        ("10/second;500/hour", "10/second;500/hour"),
        ("30 / 2 minutes", "30 / 2 minutes"),
    ],
)
def test_checkout_outcome_rate_limit_is_configurable(tmp_path, raw, rate):
    env = {"BUYBUTTON_HOME": str(tmp_path)}
    if raw is not None:
        env["BUYBUTTON_CHECKOUT_OUTCOME_RATE_LIMIT"] = raw
    assert load_settings(env).checkout_outcome_rate_limit == rate


@pytest.mark.parametrize("raw", ["lots", "10", "10/fortnight", "10/minute;", "-1/minute"])
def test_bad_checkout_outcome_rate_limit_is_a_clear_error(tmp_path, raw):
    with pytest.raises(ConfigError, match="BUYBUTTON_CHECKOUT_OUTCOME_RATE_LIMIT must be rates"):
        load_settings(
            {"BUYBUTTON_HOME": str(tmp_path), "BUYBUTTON_CHECKOUT_OUTCOME_RATE_LIMIT": raw}
        )


@pytest.mark.parametrize(
    "raw, origin",
    [
        ("https://buy.example.com", "https://buy.example.com"),
        ("https://buy.example.com/", "https://buy.example.com"),
        ("HTTP://Shop.Example:8080", "http://shop.example:8080"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_public_url_is_kept_as_an_origin(tmp_path, raw, origin):
    assert (
        load_settings({"BUYBUTTON_HOME": str(tmp_path), "BUYBUTTON_PUBLIC_URL": raw}).public_url
        == origin
    )


def test_trusted_hosts_follow_the_public_url_and_allowed_hosts(tmp_path):
    def trusted(**env):
        return load_settings({"BUYBUTTON_HOME": str(tmp_path), **env}).trusted_hosts

    assert trusted() == ["localhost", "127.0.0.1"]  # links from the request: loopback only
    assert trusted(BUYBUTTON_PUBLIC_URL="https://buy.example.com") is None  # links never from it
    assert trusted(BUYBUTTON_ALLOWED_HOSTS=" Buy.Example.com, .shop.example ") == [
        "buy.example.com",
        ".shop.example",
    ]
    assert trusted(
        BUYBUTTON_ALLOWED_HOSTS="10.0.0.7", BUYBUTTON_PUBLIC_URL="https://buy.example.com"
    ) == ["10.0.0.7", "buy.example.com"]


def test_link_lifetimes_default_to_two_weeks_and_are_configurable(tmp_path):
    settings = load_settings({"BUYBUTTON_HOME": str(tmp_path)})
    assert settings.feed_link_ttl_seconds == settings.share_link_ttl_seconds == 14 * 86400
    settings = load_settings(
        {
            "BUYBUTTON_HOME": str(tmp_path),
            "BUYBUTTON_FEED_LINK_TTL_SECONDS": "86400",
            "BUYBUTTON_SHARE_LINK_TTL_SECONDS": "7776000",
        }
    )
    assert (settings.feed_link_ttl_seconds, settings.share_link_ttl_seconds) == (86400, 7776000)


def test_webhook_delivery_settings_default_and_parse(tmp_path):
    defaults = load_settings({"BUYBUTTON_HOME": str(tmp_path)})
    assert (
        defaults.webhook_timeout_seconds,
        defaults.webhook_concurrency,
        defaults.webhook_endpoint_concurrency,
        defaults.webhook_retry_schedule,
    ) == (10.0, 4, 1, ())
    tuned = load_settings(
        {
            "BUYBUTTON_HOME": str(tmp_path),
            "BUYBUTTON_WEBHOOK_TIMEOUT_SECONDS": "2.5",
            "BUYBUTTON_WEBHOOK_CONCURRENCY": "8",
            "BUYBUTTON_WEBHOOK_ENDPOINT_CONCURRENCY": "2",
            "BUYBUTTON_WEBHOOK_RETRY_SCHEDULE": "30, 300,3600",
        }
    )
    assert (
        tuned.webhook_timeout_seconds,
        tuned.webhook_concurrency,
        tuned.webhook_endpoint_concurrency,
        tuned.webhook_retry_schedule,
    ) == (2.5, 8, 2, (30, 300, 3600))


@pytest.mark.parametrize(
    "name, value",
    [
        ("BUYBUTTON_WEBHOOK_TIMEOUT_SECONDS", "soon"),
        ("BUYBUTTON_WEBHOOK_TIMEOUT_SECONDS", "0"),
        ("BUYBUTTON_WEBHOOK_TIMEOUT_SECONDS", "nan"),
        ("BUYBUTTON_WEBHOOK_TIMEOUT_SECONDS", "3601"),
        ("BUYBUTTON_WEBHOOK_CONCURRENCY", "0"),
        ("BUYBUTTON_WEBHOOK_CONCURRENCY", "2.5"),
        ("BUYBUTTON_WEBHOOK_CONCURRENCY", "1000"),
        ("BUYBUTTON_WEBHOOK_ENDPOINT_CONCURRENCY", "-1"),
        ("BUYBUTTON_WEBHOOK_RETRY_SCHEDULE", "30,,60"),
        ("BUYBUTTON_WEBHOOK_RETRY_SCHEDULE", "30s,1m"),
        ("BUYBUTTON_WEBHOOK_RETRY_SCHEDULE", "0,60"),
        ("BUYBUTTON_WEBHOOK_RETRY_SCHEDULE", "60,9999999"),
        ("BUYBUTTON_WEBHOOK_RETRY_SCHEDULE", ",".join(["60"] * 101)),
    ],
)
def test_bad_webhook_delivery_settings_name_the_variable(tmp_path, name, value):
    with pytest.raises(ConfigError) as caught:
        load_settings({"BUYBUTTON_HOME": str(tmp_path), name: value})
    assert name in caught.value.message


# -- mail ----------------------------------------------------------------------------------------


def test_mail_defaults_to_eml_files_with_a_local_sender(tmp_path):
    settings = load_settings({"BUYBUTTON_HOME": str(tmp_path)})
    assert settings.smtp is None and settings.mail_from == "buybutton <buybutton@localhost>"
    assert settings.mail_retry_schedule == ()


def test_mail_retry_schedule_is_a_list_of_waits(tmp_path):
    settings = load_settings(
        {"BUYBUTTON_HOME": str(tmp_path), "BUYBUTTON_MAIL_RETRY_SCHEDULE": "60, 600,3600"}
    )
    assert settings.mail_retry_schedule == (60, 600, 3600)


@pytest.mark.parametrize("value", ["60,,600", "1m", "0", ",".join(["60"] * 101)])
def test_a_bad_mail_retry_schedule_names_the_variable(tmp_path, value):
    with pytest.raises(ConfigError) as caught:
        load_settings({"BUYBUTTON_HOME": str(tmp_path), "BUYBUTTON_MAIL_RETRY_SCHEDULE": value})
    assert "BUYBUTTON_MAIL_RETRY_SCHEDULE" in caught.value.message


@pytest.mark.parametrize(
    "url, expected",
    [
        ("smtp://mail.example.com", ("smtp", "mail.example.com", 587, None, None, 10.0)),
        ("smtps://mail.example.com", ("smtps", "mail.example.com", 465, None, None, 10.0)),
        ("SMTP://127.0.0.1:25?timeout=2.5", ("smtp", "127.0.0.1", 25, None, None, 2.5)),
        (
            "smtps://shop%40lune.example:p%40ss%3Aw%2Frd@mail.example.com:2465",
            ("smtps", "mail.example.com", 2465, "shop@lune.example", "p@ss:w/rd", 10.0),
        ),
        ("smtp://[::1]:2525", ("smtp", "::1", 2525, None, None, 10.0)),
    ],
)
def test_smtp_url_is_parsed_with_decoded_credentials(tmp_path, url, expected):
    settings = load_settings(
        {
            "BUYBUTTON_HOME": str(tmp_path),
            "BUYBUTTON_SMTP_URL": url,
            "BUYBUTTON_MAIL_FROM": "Lune <orders@lune.example>",
        }
    )
    smtp = settings.smtp
    assert (
        smtp.scheme,
        smtp.host,
        smtp.port,
        smtp.username,
        smtp.password,
        smtp.timeout,
    ) == expected
    assert settings.mail_from == "Lune <orders@lune.example>"


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://mail.example.com", "must start with smtp:// .STARTTLS. or smtps://"),
        ("mail.example.com:587", "must start with smtp://"),
        ("smtp://", "names no host"),
        ("smtp://user:hunter2@:587", "names no host"),
        ("smtp://mail.example.com:http", "port"),
        ("smtp://mail.example.com:70000", "port"),
        ("smtp://mail.example.com/inbox", "no path"),
        ("smtp://mail.example.com?tls=1", "only the query parameter timeout"),
        ("smtp://mail.example.com?timeout=soon", "timeout"),
        ("smtp://mail.example.com?timeout=0", "timeout"),
        ("smtp://mail.example.com?timeout=nan", "timeout"),
        ("smtp://mail.example.com?timeout=301", "timeout"),
        ("smtp://hunter2@mail.example.com", "both a user name and a password"),
    ],
)
def test_bad_smtp_url_is_one_clear_error_without_the_password(tmp_path, url, message):
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(
            {
                "BUYBUTTON_HOME": str(tmp_path),
                "BUYBUTTON_SMTP_URL": url,
                "BUYBUTTON_MAIL_FROM": "orders@lune.example",
            }
        )
    assert "BUYBUTTON_SMTP_URL" in str(caught.value) and "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "raw, canonical",
    [
        ("orders@lune.example", "orders@lune.example"),
        ("Atelier Lune <orders@lune.example>", "Atelier Lune <orders@lune.example>"),
        ('"Lune, Paris" <orders@lune.example>', '"Lune, Paris" <orders@lune.example>'),
        ("Café Lune <orders@lune.example>", "Café Lune <orders@lune.example>"),
    ],
)
def test_mail_from_accepts_an_address_with_optional_display_name(tmp_path, raw, canonical):
    settings = load_settings({"BUYBUTTON_HOME": str(tmp_path), "BUYBUTTON_MAIL_FROM": raw})
    assert settings.mail_from == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "orders",
        "orders@",
        "@lune.example",
        "Lune <orders@lune>",
        "a@lune.example, b@lune.example",
        "Lune <orders@lune.example> x",
        "orders@lune.example\nBcc: all@example.com",
        "<>",
        "café@lune.example",
    ],
)  # non-ASCII local part: SMTPUTF8 only
def test_bad_mail_from_is_a_clear_error(tmp_path, raw):
    with pytest.raises(ConfigError, match="BUYBUTTON_MAIL_FROM"):
        load_settings({"BUYBUTTON_HOME": str(tmp_path), "BUYBUTTON_MAIL_FROM": raw})


def test_smtp_password_stays_out_of_the_settings_repr(tmp_path):
    settings = load_settings(
        {
            "BUYBUTTON_HOME": str(tmp_path),
            "BUYBUTTON_MAIL_FROM": "a@b.example",
            "BUYBUTTON_SMTP_URL": "smtps://shop:s3cr%21t-pw@mail.example.com",
        }
    )
    assert settings.smtp.password == "s3cr!t-pw"
    assert "s3cr" not in repr(settings) and "mail.example.com" in repr(settings)


@pytest.mark.parametrize(
    "name, raw, bounds, extra",
    [
        ("BUYBUTTON_CHECKOUT_TTL_SECONDS", "0", "from 1 to 86400", {}),
        (
            "BUYBUTTON_CHECKOUT_TTL_SECONDS",
            "600",
            "from 1800 to 86400",
            {"STRIPE_SECRET_KEY": "sk_x"},
        ),
        ("BUYBUTTON_MAX_HELD_UNITS_PER_CLIENT", "-1", "from 0 (no cap) to 1000000", {}),
        ("BUYBUTTON_FEED_LINK_TTL_SECONDS", "3600", "from 86400 (1 day) to 7776000 (90 days)", {}),
        ("BUYBUTTON_SHARE_LINK_TTL_SECONDS", "week", "from 86400 (1 day) to 7776000 (90 days)", {}),
        ("BUYBUTTON_REQUEST_READ_TIMEOUT", "0.5", "from 1 to 3600", {}),
        ("BUYBUTTON_ORDER_SYNC_INTERVAL_SECONDS", "1.5", "from 1 to 3600", {}),
        ("BUYBUTTON_ONE_CLICK_CONFIRM_SECONDS", "59", "from 60 to 86400", {}),
        ("BUYBUTTON_WEBHOOK_TIMEOUT_SECONDS", "inf", "from 0.1 to 300", {}),
        ("BUYBUTTON_WEBHOOK_CONCURRENCY", "+4", "from 1 to 64", {}),
        ("BUYBUTTON_WEBHOOK_ENDPOINT_CONCURRENCY", "65", "from 1 to 64", {}),
        (
            "BUYBUTTON_DASHBOARD_SESSION_SECONDS",
            "299",
            "from 300 (5 minutes) to 2592000 (30 days)",
            {},
        ),
        ("BUYBUTTON_EXPIRY_INTERVAL_SECONDS", "0", "from 1 to 3600", {}),
        ("BUYBUTTON_CACHE_TTL_SECONDS", "3601", "from 0 (no cache) to 3600", {}),
        ("BUYBUTTON_CACHE_STALE_SECONDS", "-1", "from 0 to 86400", {}),
        ("BUYBUTTON_CACHE_MAX_ENTRIES", "0", "from 1 to 1000000", {}),
    ],
)
def test_every_bounded_number_names_the_variable_its_range_and_the_bad_value(
    tmp_path, name, raw, bounds, extra
):
    with pytest.raises(ConfigError) as caught:
        load_settings({"BUYBUTTON_HOME": str(tmp_path), **extra, name: raw})
    message = caught.value.message
    assert message.startswith(f"{name} must be ") and bounds in message
    assert message.endswith(f", not {raw!r}.")


@pytest.mark.parametrize(
    "name, raw, value",
    [
        ("BUYBUTTON_CHECKOUT_TTL_SECONDS", "900", 900),
        ("BUYBUTTON_REQUEST_READ_TIMEOUT", "2.5", 2.5),
        ("BUYBUTTON_ONE_CLICK_CONFIRM_SECONDS", "60", 60),
        ("BUYBUTTON_WEBHOOK_TIMEOUT_SECONDS", "0.1", 0.1),
        ("BUYBUTTON_EXPIRY_INTERVAL_SECONDS", "30", 30),
        ("BUYBUTTON_CACHE_TTL_SECONDS", "0", 0),
        ("BUYBUTTON_CACHE_STALE_SECONDS", "300", 300),
        ("BUYBUTTON_CACHE_MAX_ENTRIES", "500", 500),
    ],
)
def test_bounded_numbers_accept_their_range(tmp_path, name, raw, value):
    settings = load_settings({"BUYBUTTON_HOME": str(tmp_path), name: raw})
    field = {
        "BUYBUTTON_CHECKOUT_TTL_SECONDS": "checkout_ttl_seconds",
        "BUYBUTTON_REQUEST_READ_TIMEOUT": "request_read_timeout",
        "BUYBUTTON_ONE_CLICK_CONFIRM_SECONDS": "one_click_confirm_seconds",
        "BUYBUTTON_WEBHOOK_TIMEOUT_SECONDS": "webhook_timeout_seconds",
        "BUYBUTTON_EXPIRY_INTERVAL_SECONDS": "expiry_interval_seconds",
        "BUYBUTTON_CACHE_TTL_SECONDS": "cache_ttl_seconds",
        "BUYBUTTON_CACHE_STALE_SECONDS": "cache_stale_seconds",
        "BUYBUTTON_CACHE_MAX_ENTRIES": "cache_max_entries",
    }[name]
    assert getattr(settings, field) == value


def test_dashboard_settings_default_to_closed_signup_and_bounded_sessions(tmp_path):
    settings = load_settings({"BUYBUTTON_HOME": str(tmp_path)})
    assert settings.signup_open is False
    assert settings.dashboard_session_seconds == 12 * 3600
    assert settings.login_rate_limit == "5/minute;30/hour"
    assert settings.login_ip_rate_limit == "20/minute;200/hour"


def test_dashboard_settings_parse(tmp_path):
    settings = load_settings(
        {
            "BUYBUTTON_HOME": str(tmp_path),
            "BUYBUTTON_SIGNUP": "Open",
            "BUYBUTTON_DASHBOARD_SESSION_SECONDS": "3600",
            "BUYBUTTON_LOGIN_RATE_LIMIT": "3/minute; 10 per hour",
            "BUYBUTTON_LOGIN_IP_RATE_LIMIT": "50/day",
        }
    )
    assert settings.signup_open is True and settings.dashboard_session_seconds == 3600
    assert settings.login_rate_limit == "3/minute; 10 per hour"
    assert settings.login_ip_rate_limit == "50/day"
    assert (
        load_settings({"BUYBUTTON_HOME": str(tmp_path), "BUYBUTTON_SIGNUP": "closed"}).signup_open
        is False
    )


@pytest.mark.parametrize(
    "name, raw",
    [
        ("BUYBUTTON_SIGNUP", "yes"),
        ("BUYBUTTON_LOGIN_RATE_LIMIT", "lots"),
        ("BUYBUTTON_LOGIN_IP_RATE_LIMIT", "5/fortnight"),
    ],
)
def test_bad_dashboard_settings_name_the_variable(tmp_path, name, raw):
    with pytest.raises(ConfigError) as caught:
        load_settings({"BUYBUTTON_HOME": str(tmp_path), name: raw})
    assert caught.value.message.startswith(f"{name} must be ") and repr(raw) in caught.value.message


@pytest.mark.parametrize("raw, value", [("off", False), ("0", False), ("on", True), ("", True)])
def test_compression_is_a_switch(tmp_path, raw, value):
    settings = load_settings({"BUYBUTTON_HOME": str(tmp_path), "BUYBUTTON_COMPRESSION": raw})
    assert settings.compression is value


def test_compression_refuses_what_is_not_on_or_off(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings({"BUYBUTTON_HOME": str(tmp_path), "BUYBUTTON_COMPRESSION": "maybe"})
    assert caught.value.message == "BUYBUTTON_COMPRESSION must be on or off, not 'maybe'."


def test_download_links_default_to_a_week_and_five_downloads(tmp_path):
    settings = load_settings({"BUYBUTTON_HOME": str(tmp_path)})
    assert (settings.download_ttl_seconds, settings.download_limit) == (7 * 86400, 5)
    settings = load_settings(
        {
            "BUYBUTTON_HOME": str(tmp_path),
            "BUYBUTTON_DOWNLOAD_TTL_SECONDS": "3600",
            "BUYBUTTON_DOWNLOAD_LIMIT": "1000",
        }
    )
    assert (settings.download_ttl_seconds, settings.download_limit) == (3600, 1000)


@pytest.mark.parametrize(
    "name, raw, bounds",
    [
        ("BUYBUTTON_DOWNLOAD_TTL_SECONDS", "60", "from 3600 (1 hour) to 31622400 (366 days)"),
        ("BUYBUTTON_DOWNLOAD_LIMIT", "0", "a number of downloads from 1 to 1000"),
    ],
)
def test_bad_download_settings_name_the_variable_and_the_range(tmp_path, name, raw, bounds):
    with pytest.raises(ConfigError) as caught:
        load_settings({"BUYBUTTON_HOME": str(tmp_path), name: raw})
    message = caught.value.message
    assert message.startswith(f"{name} must be ") and bounds in message
    assert message.endswith(f", not {raw!r}.")
