"""Translations read from gettext ``.po`` catalogs at run time, with Babel.

A folder of catalogs is laid out as gettext expects, ``<folder>/<lang>/LC_MESSAGES/messages.po``;
the text in the source (templates, code) is English and needs no catalog. Each catalog is read
once per process (``read_po``, then compiled in memory): there is no build step and no ``.mo``
to fall out of date with its ``.po``. Fuzzy and empty entries are left out, so they fall back to
the English text. Used by the mail (``buybutton/mail/locales``) and the shopper pages.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from .money import resolve_locale

#: The language the source text is written in; it needs no catalog.
SOURCE_LANGUAGE = "en"


@cache
def catalog_languages(folder: Path) -> tuple[str, ...]:
    """The languages of ``folder``'s catalogs, English first."""
    found = sorted(p.parent.parent.name for p in folder.glob("*/LC_MESSAGES/messages.po"))
    return (SOURCE_LANGUAGE, *(lang for lang in found if lang != SOURCE_LANGUAGE))


@cache
def load_translations(folder: Path, language: str) -> NullTranslations:
    """The gettext translations of ``language`` (``"fr"``) from ``folder``'s catalog; English
    (no translation) for the source language and for a language without a catalog."""
    path = folder / language / "LC_MESSAGES" / "messages.po"
    if language == SOURCE_LANGUAGE or not path.is_file():
        return NullTranslations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # in memory: gettext reads the .mo format
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def catalog_locale(folder: Path, locale: str | None) -> str:
    """``locale`` normalized (``"fr-CA"`` → ``"fr_CA"``) when its language has a catalog in
    ``folder``, else ``"en"``."""
    resolved = resolve_locale(locale, default=SOURCE_LANGUAGE)
    return resolved if Locale.parse(resolved).language in catalog_languages(folder) else "en"
