"""What a browser does with a page's form: its hidden fields (the CSRF token included) posted
back with the shopper's input, to the form's action."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin


def form_fields(html: str, form_class: str | None = None) -> dict[str, str]:
    """The hidden fields of a page's first form (or its first form of class ``form_class``):
    what a browser would post back, the form token (``csrf_token``) included."""
    return _form(html, form_class)[1]


def submit_form(
    client: Any,
    page_url: str,
    data: dict[str, Any] | None = None,
    *,
    form_class: str | None = None,
    **kwargs: Any,
) -> Any:
    """What a browser does: GET ``page_url``, then post its form (hidden fields, then ``data``)
    to the form's action. ``client`` is a Flask test client or a ``requests.Session``."""
    page = client.get(page_url)
    assert page.status_code == 200, page.text
    action, fields = _form(page.text, form_class)
    return client.post(
        urljoin(page_url, action or page_url), data={**fields, **(data or {})}, **kwargs
    )


class _Forms(HTMLParser):
    """The action and hidden fields of the first form (of a class, if given)."""

    def __init__(self, form_class: str | None):
        super().__init__()
        self.form_class = form_class
        self.fields: dict[str, str] | None = None
        self.action: str | None = None
        self.inside = self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if (
            tag == "form"
            and not self.done
            and (self.form_class is None or self.form_class in (values.get("class") or "").split())
        ):
            self.inside, self.fields, self.action = True, {}, values.get("action")
        elif tag == "input" and self.inside and values.get("type") == "hidden":
            assert self.fields is not None
            self.fields[values["name"] or ""] = values.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside, self.done = False, True


def _form(html: str, form_class: str | None) -> tuple[str | None, dict[str, str]]:
    parser = _Forms(form_class)
    parser.feed(html)
    assert parser.fields is not None, f"no form {form_class or ''} on the page"
    return parser.action, parser.fields
