/* <buy-button token="…">: buybutton's embeddable one-click Buy Now button.
 *
 * One custom element, no dependency. Paste
 *   <script async src="https://HOST/widget.js"></script><buy-button token="TOKEN"></buy-button>
 * into any page. The light-DOM content of <buy-button> (e.g. a plain link to /buy/TOKEN) is the
 * no-JavaScript fallback; once upgraded, the shadow root replaces it. The styles live in
 * buy-button.css; the server inlines them where CSS is assigned below, so the page makes one request.
 *
 * How it behaves (docs/widget.md has the details):
 * - renders at once from the signed token (price and currency are in its payload), with no request;
 *   then GET /v1/embed/TOKEN fills in name, image and availability, and the price as the server
 *   words it (the one formatter every buybutton page uses);
 * - a click opens the hosted buy page /buy/TOKEN in a popup opened synchronously in the click
 *   handler (so popup blockers allow it); in-app browsers, small screens and blocked popups go to
 *   the buy page in the same tab, with a return URL;
 * - each click gets a random checkout id (nothing about the shopper) that the buy page carries to
 *   the order; the button learns the outcome from GET /v1/checkouts/ID (asked at growing
 *   intervals while its checkout is open) or from the "buybutton:purchase" message the order page
 *   posts through window.opener, whichever comes first; only messages from this script's own
 *   origin and from the popup this button opened are believed. A popup that reads "closed" may
 *   only have lost its opener (COOP, noopener): the button waits for the server's word;
 * - nothing is stored in the merchant page's cookies or storage; impressions and clicks go to
 *   POST /v1/funnel by sendBeacon (no cookies set, no personal data).
 */
(() => {
  "use strict";
  if (!window.customElements || customElements.get("buy-button")) return; // loaded twice

  // The server this script came from serves the buy page, the embed JSON and the events.
  const BASE = new URL(document.currentScript?.src || location.href).origin;
  const CSS = "__BUYBUTTON_CSS__"; // buy-button.css, put here when the server builds /widget.js

  // Built-in strings, per language. The `label` attribute overrides "buy".
  const STRINGS = {
    en: { buy: "Buy", soldOut: "Sold out", unavailable: "Unavailable", opening: "Opening checkout…",
          purchased: "Purchased ✓", canceled: "Checkout closed", blocked: "Continuing in this tab…",
          completing: "Completing purchase…" },
    fr: { buy: "Acheter", soldOut: "Épuisé", unavailable: "Indisponible", opening: "Ouverture du paiement…",
          purchased: "Acheté ✓", canceled: "Paiement fermé", blocked: "Suite dans cet onglet…",
          completing: "Finalisation de l’achat…" }
  };

  // Social apps' in-app browsers (Facebook, Messenger, Instagram, Pinterest, TikTok, X/Twitter)
  // break popups and window.opener: there the buy page opens in the same tab.
  const IN_APP = /FBAN|FBAV|FB_IAB|FBIOS|Messenger|Instagram|Pinterest|TikTok|musical_ly|BytedanceWebview|Twitter/i;

  // A constructable stylesheet, which style-src does not govern (no 'unsafe-inline' needed).
  let sheet = null;
  try { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); } catch { sheet = null; }

  const beacon = (type, token) => {
    // A text/plain body is a "simple" cross-origin request: no preflight, nothing to wait for.
    try { if (token) navigator.sendBeacon(BASE + "/v1/funnel", JSON.stringify({ type, token })); } catch { /* never break the page */ }
  };

  const seen = window.IntersectionObserver && new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) { seen.unobserve(entry.target); beacon("impression", entry.target.getAttribute("token")); }
    }
  });

  // The first paint's price. The token is base64url(JSON) + "." + signature, its payload holds the
  // amount (a) and currency (c): the price shows before any request. The embed answer's
  // price_formatted replaces it, so every page words a price the same way.
  const tokenPrice = (token, lang) => {
    try {
      const raw = atob(token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/"));
      const { a, c } = JSON.parse(new TextDecoder().decode(Uint8Array.from(raw, (ch) => ch.charCodeAt(0))));
      const format = new Intl.NumberFormat(lang, { style: "currency", currency: c });
      return Number.isInteger(a) ? format.format(a / 10 ** format.resolvedOptions().maximumFractionDigits) : "";
    } catch { return ""; } // e.g. a compressed payload: the embed answer will tell
  };

  // "token|lang" -> [when asked, Promise of the embed answer]: many buttons, one request; kept a
  // minute at most, so a button added later does not offer what sold out meanwhile.
  const embeds = new Map();
  const fetchEmbed = (token, lang) => {
    const key = token + "|" + lang, kept = embeds.get(key);
    if (kept && Date.now() - kept[0] < 6e4) return kept[1];
    const answer = fetch(BASE + "/v1/embed/" + encodeURIComponent(token) + "?locale=" + encodeURIComponent(lang),
                         { credentials: "omit" })
      .then(async (response) => ({ ok: response.ok, body: await response.json() }))
      .catch((error) => { embeds.delete(key); throw error; }); // the next button tries again
    embeds.set(key, [Date.now(), answer]);
    return answer;
  };

  const el = (parent, tag, className, part) => {
    const node = parent.appendChild(document.createElement(tag));
    if (className) node.className = className;
    if (part) node.setAttribute("part", part);
    return node;
  };

  class BuyButton extends HTMLElement {
    static observedAttributes = ["token", "label", "lang", "variant"];

    #button; #status; #img; #name; #price;
    #token = null; // the token shown; null: load again at the next chance
    #state = "idle"; // idle | soldOut | unavailable | opening | completing | purchased
    #embed = null; // the server's answer for #token
    #firstPrice = ""; // the token's own price, until the embed answer arrives
    #popup = null;
    #watch = 0; // the interval that follows the checkout in progress (0: none)

    constructor() {
      super();
      const root = this.attachShadow({ mode: "open" });
      if (sheet) root.adoptedStyleSheets = [sheet];
      else el(root, "style").textContent = CSS; // browsers without constructable stylesheets
      const card = el(root, "div", "card", "card");
      this.#img = el(card, "img", "", "image");
      this.#img.alt = "";
      this.#name = el(card, "div", "name", "name");
      this.#price = el(card, "div", "price", "price");
      this.#button = el(root, "button", "", "button");
      this.#button.type = "button";
      this.#button.addEventListener("click", () => this.#click());
      this.#status = el(root, "span", "sr", "status");
      this.#status.setAttribute("role", "status");
      this.#status.setAttribute("aria-live", "polite");
    }

    connectedCallback() {
      this.#listen(true);
      this.#load();
    }

    disconnectedCallback() {
      this.#listen(false);
      seen?.unobserve(this);
    }

    attributeChangedCallback(name, before, after) {
      if (before === after) return;
      if (name === "token" || name === "lang") this.#token = null; // a new offer: start over
      if (this.isConnected) this.#load();
    }

    get #lang() { return this.closest("[lang]")?.lang || navigator.language || "en"; }

    get #strings() { return STRINGS[this.#lang.slice(0, 2).toLowerCase()] || STRINGS.en; }

    // A connected button, or one opening a checkout (BuyButton.open), hears its popup and the
    // page being hidden.
    #listen(on) {
      const listen = on ? addEventListener : removeEventListener;
      listen("message", this.#onMessage);
      listen("pagehide", this.#onPageHide);
    }

    // (Re)start from the token: render from its payload, then ask the server for the rest.
    #load() {
      const token = this.getAttribute("token") || "", lang = this.#lang;
      if (token === this.#token) return this.#render();
      this.#token = token;
      this.#state = "idle";
      this.#embed = null;
      this.#firstPrice = tokenPrice(token, lang);
      this.#render();
      if (!token) return this.#unavailable("missing token attribute");
      if (seen) seen.observe(this); else beacon("impression", token);
      fetchEmbed(token, lang).then((answer) => {
        if (this.#token !== token || this.#lang !== lang) return; // a newer load is under way
        if (!answer.ok) return this.#unavailable(answer.body.error?.code || "error");
        this.#embed = answer.body;
        if (answer.body.sold_out) this.#state = "soldOut";
        else if (!answer.body.available) this.#state = "unavailable";
        this.#render();
      }, (error) => {
        // Offline or blocked by a CSP: keep the button; the buy page will tell the shopper.
        console.warn("<buy-button>: could not load the product from " + BASE + ": " + error);
      });
    }

    #unavailable(reason) {
      console.warn("<buy-button>: this offer is unavailable (" + reason + ")");
      this.#show("unavailable");
    }

    #render() {
      const t = this.#strings, product = this.#embed?.product || {};
      const price = this.#embed?.price_formatted || this.#firstPrice;
      const buy = (this.getAttribute("label") || t.buy) + (price ? " · " + price : "");
      const labels = { ...t, idle: buy, opening: buy }; // other states: their string
      this.#button.textContent = labels[this.#state];
      this.#button.disabled = !this.#busy && this.#state !== "idle"; // busy: a click starts over
      this.#button.setAttribute("aria-busy", String(this.#busy));
      // Screen readers hear what the button buys even where the label is short.
      this.#button.setAttribute("aria-label", labels[this.#state] + (product.name ? " – " + product.name : ""));
      this.#name.textContent = product.name || "";
      this.#price.textContent = price;
      if (product.image_url) this.#img.src = product.image_url; else this.#img.removeAttribute("src");
    }

    get #busy() { return this.#state === "opening" || this.#state === "completing"; }

    #say(text) { this.#status.textContent = text; }

    #fire(name, detail = { token: this.getAttribute("token") }) {
      const target = this.isConnected ? this : document;
      return target.dispatchEvent(new CustomEvent("buybutton:" + name, { bubbles: true, composed: true, cancelable: name === "open", detail }));
    }

    #click() {
      if (this.#popup && !this.#popup.closed) this.#popup.focus(); // a double click: one checkout
      else this.open();
    }

    /** Open the checkout; call it inside a click handler (popup blockers). */
    open() {
      const token = this.getAttribute("token");
      if (!token || !this.#fire("open")) return;
      beacon("click", token);
      this.#listen(true);
      this.#show("opening");
      // 16 random bytes in hex: the id of this click, which says nothing about the shopper.
      const id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => (b + 256).toString(16).slice(1)).join("");
      // ?return=: the page the buy and order pages link back to (kept if the merchant registered it).
      const query = new URLSearchParams({ origin: location.origin, locale: this.#lang, checkout_id: id, return: location.href });
      const ref = this.getAttribute("ref"); // a share link's referral tag, credited on the order
      if (ref) query.set("ref", ref);
      const url = BASE + "/buy/" + encodeURIComponent(token) + "?" + query;
      const small = Math.min(innerWidth, screen.width) < 600;
      const width = Math.min(440, screen.availWidth), height = Math.min(760, screen.availHeight);
      const popup = !small && !IN_APP.test(navigator.userAgent) && window.open(url, "_blank",
        "popup,width=" + width + ",height=" + height +
        ",left=" + Math.round(screenX + (outerWidth - width) / 2) + ",top=" + Math.round(screenY + (outerHeight - height) / 2));
      if (!popup) {
        // Same tab: the buy page brings the shopper back here after paying.
        this.#say(this.#strings.blocked);
        return location.assign(url);
      }
      this.#popup = popup;
      this.#stop();
      // Every 0.4 s: does the popup read closed? It was closed by the shopper, or only severed from
      // this page (a COOP header, noopener): the purchase may still complete, the server has the
      // last word. Now and then (after 1.2 s, then 1.5 times later each time, at least every 15 s),
      // for `wait` seconds at most (default 1800, a checkout's lifetime): server, how did it go?
      let tick = 0, next = 3;
      const watch = this.#watch = setInterval(() => {
        if (popup.closed && this.#state === "opening") this.#show("completing");
        if (++tick < next) return;
        next = Math.min(tick * 1.5, tick + 37);
        if (tick > (this.getAttribute("wait") || 1800) * 2.5) return this.#cancel(); // lapsed, or given up
        fetch(BASE + "/v1/checkouts/" + id).then((response) => response.json()).then(({ status }) => {
          if (this.#watch !== watch) return; // stopped, or a newer click
          if (status === "paid") this.#purchased();
          if (status === "canceled" || status === "expired") this.#cancel();
        }, () => {}); // offline (or rate limited, then no status): ask later
      }, 400);
    }

    // Stop following the checkout (the outcome is known, the page is hidden, or a new click).
    #stop() {
      clearInterval(this.#watch);
      this.#watch = 0;
    }

    #show(state, text = this.#strings[state]) {
      this.#state = state;
      this.#render();
      this.#say(text);
    }

    // The popup is kept: after "Try again" there, its purchase message still counts.
    #cancel() {
      this.#stop();
      this.#show("idle", this.#strings.canceled);
      this.#fire("cancel");
    }

    // Told twice (the message and the server), the page hears of the purchase once: whichever
    // comes first ends both (no popup to believe, no checkout to ask about).
    #purchased(detail) {
      this.#stop();
      this.#popup = null;
      this.#show("purchased");
      this.#fire("purchase", detail);
    }

    #onMessage = ({ origin, source, data }) => {
      // Only our own pages, and only the popup this button opened, can say how the checkout went.
      if (origin !== BASE || !this.#popup || source !== this.#popup || !data || typeof data !== "object") return;
      if (data.type === "buybutton:cancel" && this.#busy) return this.#cancel();
      // Order facts only: nothing about the shopper crosses to the merchant's page. (Learnt from
      // the server instead, the event's detail is the token alone.)
      if (data.type === "buybutton:purchase") {
        this.#purchased({ orderId: String(data.orderId), productId: String(data.productId),
                          amount: Number(data.amount), currency: String(data.currency) });
      }
    };

    // Leaving the page (to the buy page in this tab, or elsewhere) ends what this button follows:
    // back through the back/forward cache, it is ready for a new click.
    #onPageHide = () => { if (this.#busy) this.#cancel(); };
  }

  customElements.define("buy-button", BuyButton);

  /** The JS API: BuyButton.open(token) from your own click handler; events as for the element. */
  window.BuyButton = {
    version: "1.0.0",
    origin: BASE,
    open(token) {
      let button = [...document.querySelectorAll("buy-button")].find((b) => b.getAttribute("token") === token);
      if (!button) { // detached: not loaded, its events go to document
        button = document.createElement("buy-button");
        if (token) button.setAttribute("token", token); // no token (null would become "null"): no checkout
      }
      button.open();
      return button;
    }
  };
})();
