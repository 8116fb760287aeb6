/* <buy-button token="…">: buybutton's embeddable one-click Buy Now button.
 *
 * One file, no dependency, no build step. Paste
 *   <script async src="https://HOST/widget.js"></script><buy-button token="TOKEN"></buy-button>
 * into any page. The light-DOM content of <buy-button> (e.g. a plain link to /buy/TOKEN) is the
 * no-JavaScript fallback; once upgraded, the shadow root replaces it.
 *
 * How it behaves (docs/widget.md has the details):
 * - renders at once from the signed token (price and currency are in its payload), with no request;
 *   then GET /v1/embed/TOKEN fills in name, image and availability;
 * - a click opens the hosted buy page /buy/TOKEN in a popup opened synchronously in the click
 *   handler (so popup blockers allow it); in-app browsers, small screens and blocked popups go to
 *   the buy page in the same tab, with a return URL;
 * - the order page in the popup posts "buybutton:purchase" back; only messages from this script's
 *   own origin and from the popup this button opened are believed;
 * - nothing is stored in the merchant page's cookies or storage; impressions and clicks go to
 *   POST /v1/events by sendBeacon (no cookies set, no personal data).
 */
(function () {
  "use strict";
  if (!window.customElements || customElements.get("buy-button")) return; // loaded twice

  var VERSION = "1.0.0";
  var script = document.currentScript;
  // The server this script came from serves the buy page, the embed JSON and the events.
  var BASE = new URL(script && script.src ? script.src : location.href).origin;

  // Built-in strings, per language. The `label` attribute overrides "buy".
  var STRINGS = {
    en: { buy: "Buy", soldOut: "Sold out", unavailable: "Unavailable", opening: "Opening checkout…",
          purchased: "Purchased ✓", canceled: "Checkout closed", blocked: "Continuing in this tab…" },
    fr: { buy: "Acheter", soldOut: "Épuisé", unavailable: "Indisponible", opening: "Ouverture du paiement…",
          purchased: "Acheté ✓", canceled: "Paiement fermé", blocked: "Suite dans cet onglet…" }
  };

  // Social apps' in-app browsers (Facebook, Messenger, Instagram, Pinterest, TikTok, X/Twitter)
  // break popups and window.opener: there the buy page opens in the same tab.
  var IN_APP = /FBAN|FBAV|FB_IAB|FBIOS|Messenger|Instagram|Pinterest|TikTok|musical_ly|BytedanceWebview|Twitter|TwitterAndroid/i;

  var CSS =
    ":host{display:inline-block;vertical-align:middle;max-width:100%;font:var(--buybutton-font,600 15px/1.2 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif);" +
    "--a:var(--buybutton-accent,#1a56db);--t:var(--buybutton-text,#fff);--c:var(--buybutton-card,#fff);--f:var(--buybutton-color,#111827);--r:var(--buybutton-radius,10px)}" +
    ":host([hidden]){display:none}" +
    ":host([theme=dark]){--a:var(--buybutton-accent,#60a5fa);--t:var(--buybutton-text,#0b1220);--c:var(--buybutton-card,#1f2937);--f:var(--buybutton-color,#f9fafb)}" +
    "@media (prefers-color-scheme:dark){:host(:not([theme=light])){--a:var(--buybutton-accent,#60a5fa);--t:var(--buybutton-text,#0b1220);--c:var(--buybutton-card,#1f2937);--f:var(--buybutton-color,#f9fafb)}}" +
    ":host([size=small]){font-size:13px}:host([size=large]){font-size:18px}" +
    "button{all:unset;box-sizing:border-box;display:block;width:100%;padding:.75em 1.25em;border-radius:var(--r);background:var(--a);color:var(--t);" +
    "font:inherit;text-align:center;cursor:pointer;transition:filter .15s,transform .15s}" +
    "button:hover{filter:brightness(1.1)}button:active{transform:scale(.98)}" +
    "button:focus-visible{outline:3px solid var(--a);outline-offset:3px}" +
    "button:disabled{cursor:default;filter:grayscale(.6);opacity:.7}" +
    ".card{display:none}" +
    ":host([variant=card]){width:16em}" +
    ":host([variant=card]) .card{display:block;background:var(--c);color:var(--f);border-radius:var(--r);padding:.75em;margin-bottom:.5em;box-shadow:0 1px 3px #0003}" +
    "img{display:block;width:100%;aspect-ratio:1;object-fit:cover;border-radius:calc(var(--r) - 4px)}img:not([src]){display:none}" +
    ".name{margin:.5em 0 .25em;overflow-wrap:anywhere}.price{font-weight:400}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    "@media (prefers-reduced-motion:reduce){button{transition:none}button:active{transform:none}}";

  var sheet = null;
  try { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); } catch (e) { sheet = null; }

  var live = new Set(); // connected buttons, for messages from popups
  var embeds = {}; // token -> Promise of the embed answer: many buttons, one request
  var seen = window.IntersectionObserver && new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) { seen.unobserve(entry.target); beacon("impression", entry.target._token); }
    });
  });

  function beacon(type, token) {
    // A text/plain body is a "simple" cross-origin request: no preflight, nothing to wait for.
    try { if (token && navigator.sendBeacon) navigator.sendBeacon(BASE + "/v1/events", JSON.stringify({ type: type, token: token })); } catch (e) { /* never break the page */ }
  }

  // The token is base64url(JSON) + "." + signature: the price can be shown before any request.
  function claims(token) {
    try {
      var raw = atob(token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/"));
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(raw, function (ch) { return ch.charCodeAt(0); })));
    } catch (e) { return null; } // e.g. a compressed payload: the embed answer will tell
  }

  function formatPrice(amount, currency, lang) {
    try {
      var format = new Intl.NumberFormat(lang, { style: "currency", currency: currency.toUpperCase() });
      return format.format(amount / Math.pow(10, format.resolvedOptions().maximumFractionDigits));
    } catch (e) { return ""; }
  }

  function fetchEmbed(token, lang) {
    var key = token + "|" + lang;
    if (!embeds[key]) {
      embeds[key] = fetch(BASE + "/v1/embed/" + encodeURIComponent(token) + "?locale=" + encodeURIComponent(lang),
                          { credentials: "omit" })
        .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
        .catch(function (error) { delete embeds[key]; throw error; }); // the next button tries again
    }
    return embeds[key];
  }

  function el(parent, tag, className, part) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (part) node.setAttribute("part", part);
    parent.appendChild(node);
    return node;
  }

  class BuyButton extends HTMLElement {
    static get observedAttributes() { return ["token", "label", "lang", "variant"]; }

    constructor() {
      super();
      var root = this.attachShadow({ mode: "open" });
      if (sheet) root.adoptedStyleSheets = [sheet];
      else el(root, "style").textContent = CSS; // browsers without constructable stylesheets
      var card = el(root, "div", "card", "card");
      this._img = el(card, "img", "", "image");
      this._img.alt = "";
      this._name = el(card, "div", "name", "name");
      this._price = el(card, "div", "price", "price");
      this._button = el(root, "button", "", "button");
      this._button.type = "button";
      this._status = el(root, "span", "sr", "status");
      this._status.setAttribute("role", "status");
      this._status.setAttribute("aria-live", "polite");
      this._button.addEventListener("click", this._click.bind(this));
      this._token = null;
      this._state = "idle"; // idle | soldOut | unavailable | opening | purchased
    }

    connectedCallback() {
      live.add(this);
      this._load();
    }

    disconnectedCallback() {
      live.delete(this);
      if (seen) seen.unobserve(this);
    }

    attributeChangedCallback(name, before, after) {
      if (before === after) return;
      if (name === "token" || name === "lang") this._token = null; // a new offer: start over
      if (this.isConnected) this._load();
    }

    get _lang() {
      var holder = this.closest("[lang]");
      return (holder && holder.lang) || navigator.language || "en";
    }

    get _strings() { return STRINGS[this._lang.slice(0, 2).toLowerCase()] || STRINGS.en; }

    // (Re)start from the token: render from its payload, then ask the server for the rest.
    _load() {
      var token = this.getAttribute("token") || "";
      if (token === this._token) return this._render();
      this._token = token;
      this._state = "idle";
      this._embed = null;
      this._claims = claims(token);
      this._render();
      if (!token) return this._unavailable("missing token attribute");
      if (seen) seen.observe(this); else beacon("impression", token);
      var self = this;
      fetchEmbed(token, this._lang).then(function (answer) {
        if (self._token !== token) return; // the token changed meanwhile
        if (!answer.ok) return self._unavailable((answer.body.error || {}).code || "error");
        self._embed = answer.body;
        if (!answer.body.available || answer.body.sold_out) self._state = answer.body.sold_out ? "soldOut" : "unavailable";
        self._render();
      }, function (error) {
        // Offline or blocked by a CSP: keep the button; the buy page will tell the shopper.
        console.warn("<buy-button>: could not load the product from " + BASE + ": " + error);
      });
    }

    _unavailable(reason) {
      console.warn("<buy-button>: this offer is unavailable (" + reason + ")");
      this._state = "unavailable";
      this._render();
    }

    _render() {
      var t = this._strings, info = this._embed || {}, offer = this._claims || {};
      var amount = info.amount != null ? info.amount : offer.a;
      var currency = info.currency || offer.c;
      var price = amount != null && currency ? formatPrice(amount, currency, this._lang) : "";
      var product = info.product || {};
      var buy = (this.getAttribute("label") || t.buy) + (price ? " · " + price : "");
      var labels = { idle: buy, opening: buy, soldOut: t.soldOut, unavailable: t.unavailable, purchased: t.purchased };
      this._button.textContent = labels[this._state];
      this._button.disabled = this._state !== "idle" && this._state !== "opening";
      this._button.setAttribute("aria-busy", String(this._state === "opening"));
      // Screen readers hear what the button buys even where the label is short.
      this._button.setAttribute("aria-label", this._button.textContent + (product.name ? " – " + product.name : ""));
      this._name.textContent = product.name || "";
      this._price.textContent = price;
      if (product.image_url) this._img.src = product.image_url; else this._img.removeAttribute("src");
    }

    _say(text) { this._status.textContent = text; }

    _fire(name, detail) {
      var target = this.isConnected ? this : document;
      return target.dispatchEvent(new CustomEvent("buybutton:" + name, { bubbles: true, composed: true, cancelable: name === "open", detail: detail || { token: this._token } }));
    }

    _click() {
      if (this._state === "opening" && this._popup && !this._popup.closed) return this._popup.focus(); // a double click
      if (this._state === "idle" || this._state === "opening") this.open();
    }

    /** Open the checkout; call it inside a click handler (popup blockers). */
    open() {
      var token = this._token;
      if (!token || !this._fire("open")) return;
      beacon("click", token);
      live.add(this);
      this._state = "opening";
      this._render();
      this._say(this._strings.opening);
      var ref = this.getAttribute("ref"); // a share link's referral tag, credited on the order
      var url = BASE + "/buy/" + encodeURIComponent(token) + "?origin=" + encodeURIComponent(location.origin) +
        "&locale=" + encodeURIComponent(this._lang) + (ref ? "&ref=" + encodeURIComponent(ref) : "");
      var small = Math.min(innerWidth, screen.width) < 600;
      var width = Math.min(440, screen.availWidth), height = Math.min(760, screen.availHeight);
      var popup = !small && !IN_APP.test(navigator.userAgent) && window.open(url, "_blank",
        "popup,width=" + width + ",height=" + height +
        ",left=" + Math.round(screenX + (outerWidth - width) / 2) + ",top=" + Math.round(screenY + (outerHeight - height) / 2));
      if (!popup) {
        // Same tab: the buy page brings the shopper back here after paying.
        this._say(this._strings.blocked);
        location.assign(url + "&return=" + encodeURIComponent(location.href));
        return;
      }
      this._popup = popup;
      var self = this;
      clearInterval(this._watch);
      // Popups can't tell us they were closed: look. A cross-origin popup's .closed is readable.
      this._watch = setInterval(function () {
        if (!popup.closed) return;
        clearInterval(self._watch);
        if (self._popup === popup && self._state === "opening") self._cancel();
      }, 400);
    }

    _cancel() {
      this._popup = null;
      this._state = "idle";
      this._render();
      this._say(this._strings.canceled);
      this._fire("cancel");
    }

    _message(data) {
      if (data.type === "buybutton:cancel" && this._state === "opening") return this._cancel();
      if (data.type !== "buybutton:purchase") return;
      clearInterval(this._watch);
      this._popup = null;
      this._state = "purchased";
      this._render();
      this._say(this._strings.purchased);
      // Order facts only: nothing about the shopper crosses to the merchant's page.
      this._fire("purchase", { orderId: String(data.orderId), productId: String(data.productId),
                               amount: Number(data.amount), currency: String(data.currency) });
    }
  }

  window.addEventListener("message", function (event) {
    // Only our own pages, and only the popup a button opened, can say a purchase happened.
    if (event.origin !== BASE || !event.data || typeof event.data !== "object") return;
    live.forEach(function (button) { if (button._popup && button._popup === event.source) button._message(event.data); });
  });

  // Back from the buy page through the back/forward cache: no checkout is open any more.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) live.forEach(function (button) { if (button._state === "opening") button._cancel(); });
  });

  customElements.define("buy-button", BuyButton);

  /** The JS API: BuyButton.open(token) from your own click handler; events as for the element. */
  window.BuyButton = {
    version: VERSION,
    origin: BASE,
    open: function (token) {
      var button = Array.prototype.find.call(document.querySelectorAll("buy-button"), function (b) { return b._token === token; });
      if (!button) {
        button = document.createElement("buy-button");
        button.setAttribute("token", token);
        button._token = token; // detached: not loaded, events go to document
      }
      button.open();
      return button;
    }
  };
})();
