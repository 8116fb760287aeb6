"""Social apps' in-app browsers, told apart by their user agent.

Wallets such as Apple Pay and Google Pay do not work inside Instagram's, Facebook's, TikTok's…
webviews, and a card typed there is not remembered by the shopper's browser: the buy page shows
a discreet hint with the steps to open the page in the real browser (the purchase still works
in the webview). The markers are the ones each app puts in its user agent.
"""

from __future__ import annotations

import re
from typing import Final

#: Each app's key and the user-agent markers that name it, in the order they are tried
#: (Facebook's Messenger and Instagram share ``FBAN``-style tokens: Instagram first).
IN_APP_BROWSERS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("instagram", re.compile(r"\bInstagram\b")),
    ("facebook", re.compile(r"\bFB(?:AN|AV|_IAB|IOS)\b|\[FB")),
    ("tiktok", re.compile(r"musical_ly|BytedanceWebview|\bTikTok\b|trill_", re.IGNORECASE)),
    ("x", re.compile(r"\bTwitter(?:Android)?\b")),
    ("pinterest", re.compile(r"\bPinterest\b", re.IGNORECASE)),
    ("snapchat", re.compile(r"\bSnapchat\b", re.IGNORECASE)),
)

#: The longest user agent read (longer ones are cut: the markers come early).
MAX_USER_AGENT_LENGTH: Final = 1024


def in_app_browser(user_agent: str | None) -> str | None:
    """The key of the social app whose in-app browser sent ``user_agent`` (``"instagram"``,
    ``"facebook"``, ``"tiktok"``, ``"x"``, ``"pinterest"``, ``"snapchat"``), else ``None``."""
    if not user_agent:
        return None
    head = user_agent[:MAX_USER_AGENT_LENGTH]
    return next((app for app, marker in IN_APP_BROWSERS if marker.search(head)), None)
