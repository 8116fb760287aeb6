"""The shopper pages' languages: English (the templates' own text) and every catalog under
``server/buybutton_server/locales/`` (French so far), read with :mod:`buybutton.i18n`.

Templates mark their text ``_("…")`` (with ``%(name)s`` placeholders) or
``ngettext("…", "…", n)``, which Babel's extractor reads; the view passes :func:`page_text`'s
functions in. After changing a template, refresh the catalog and translate what is new (a test
fails while a msgid has no French translation)::

    pybabel extract -F server/buybutton_server/babel.cfg --no-location -o /tmp/pages.pot server/buybutton_server
    pybabel update -i /tmp/pages.pot -d server/buybutton_server/locales --ignore-pot-creation-date
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from babel import Locale
from babel.dates import format_skeleton, format_time

from buybutton.i18n import catalog_locale, load_translations

LOCALES = Path(__file__).resolve().parent.parent / "locales"


@dataclass(frozen=True)
class PageText:
    """The text of a page in ``locale`` (a locale whose language has a catalog, else ``en``)."""

    locale: str

    @property
    def language(self) -> str:
        """The page's ``lang``: ``fr`` for ``fr_CA``."""
        return Locale.parse(self.locale).language

    def gettext(self, message: str, **values: object) -> str:
        """``message`` translated, with ``values`` put in (a plain str: Jinja escapes it, and
        the values in it, when it is output)."""
        text = load_translations(LOCALES, self.language).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        """The form of ``singular``/``plural`` for ``n``, translated; ``%(num)s`` is ``n``."""
        text = load_translations(LOCALES, self.language).ngettext(singular, plural, n)
        return text % {"num": n, **values}

    def moment(self, timestamp: int) -> str:
        """A Unix time as the shopper reads it: ``Dec 1, 2026, 11:30 AM UTC``."""
        when = datetime.fromtimestamp(timestamp, UTC)
        day = format_skeleton("yMMMd", when, tzinfo=UTC, locale=self.locale, fuzzy=True)
        return f"{day}, {format_time(when, 'short', tzinfo=UTC, locale=self.locale)} UTC"


def page_text(locale: str | None) -> PageText:
    """The page text for the shopper's ``locale`` (``fr-CA`` → French; unknown → English)."""
    return PageText(catalog_locale(LOCALES, locale))
