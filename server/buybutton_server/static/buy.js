/* The hosted buy page: start the checkout as soon as the page is really shown, then go to the
 * payment page. The Idempotency-Key lives in this tab's sessionStorage, so a reload or a double
 * click resumes the same order instead of creating a second one. Without JavaScript the page's
 * form does the same with a plain POST.
 * When the page offers a choice (save my card, or pay with a saved card in one click) it waits
 * for the shopper's click instead; the one-click form is a plain POST, guarded against a double
 * submit. */
(function () {
  "use strict";
  var root = document.getElementById("buy");
  var statusLine = document.getElementById("status");
  var form = document.querySelector("form.checkout");
  var oneClick = document.querySelector("form.one-click");
  var saveCard = document.getElementById("save-card");
  var token = root.getAttribute("data-token");
  var quantity = parseInt(root.getAttribute("data-quantity"), 10) || 1;
  var ref = root.getAttribute("data-ref") || null; // a share link's referral tag, if any
  // The <buy-button>'s id of the click that opened this page: the order carries it, so that the
  // button learns the outcome from GET /v1/checkouts/<id> even without window.opener.
  var checkoutId = root.getAttribute("data-checkout-id") || null;
  var csrf = root.getAttribute("data-csrf"); // this browser's form token (see csrf.py)
  var storageKey = "buybutton:checkout:" + token + ":" + quantity;
  var busy = false;

  // Opened by a <buy-button>: remember in this tab's sessionStorage (our origin, never the
  // merchant's) which page to tell once paid (?origin=, the popup's opener) or to link back to
  // (?return=, after a same-tab visit). order.js reads both on the order page. The server kept
  // them (data-origin, data-return) only if they are the merchant's registered origins.
  // Also kept: this page's own address (the order page's "Try again" after a cancel) and
  // whether it opened as a popup's first page (the order page may then close the popup).
  (function rememberWidget() {
    var origin = root.getAttribute("data-origin"), back = root.getAttribute("data-return");
    try {
      sessionStorage.setItem("buybutton:buy", location.href);
      if (history.length === 1) sessionStorage.setItem("buybutton:popup", "1"); // kept on "Try again"
      if (origin && /^https?:\/\/[^\/?#\s]+$/.test(origin)) sessionStorage.setItem("buybutton:origin", origin);
      else sessionStorage.removeItem("buybutton:origin");
      if (back && /^https?:\/\//.test(back)) sessionStorage.setItem("buybutton:return", back);
      else sessionStorage.removeItem("buybutton:return");
    } catch (e) { /* storage disabled: the order page simply shows the order */ }
  })();

  function randomKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function checkoutKey(fresh) {
    // After a declined one click, "another card" resumes that same order.
    if (form.getAttribute("data-checkout-key") && !fresh) return form.getAttribute("data-checkout-key");
    // Ticking "save my card" after a first attempt needs its own order (its own session).
    var slot = storageKey + (saveCard && saveCard.checked ? ":save" : "");
    try {
      var key = sessionStorage.getItem(slot);
      if (!key || fresh) { key = randomKey(); sessionStorage.setItem(slot, key); }
      return key;
    } catch (e) {
      return randomKey(); // storage disabled (private mode): still one order per attempt
    }
  }

  function say(text) { statusLine.textContent = text; }

  function checkoutBody() {
    var body = { token: token, quantity: quantity, save_card: !!(saveCard && saveCard.checked) };
    if (ref) body.ref = ref;
    if (checkoutId) body.checkout_id = checkoutId;
    var locale = root.getAttribute("data-locale");
    if (locale) body.locale = locale; // the shopper's mail is written in the page's language
    return body;
  }

  function start(fresh) {
    if (busy) return;
    busy = true;
    form.querySelector("button").disabled = true;
    say("Opening checkout…");
    fetch("/v1/checkout", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": checkoutKey(fresh), "X-CSRF-Token": csrf },
      body: JSON.stringify(checkoutBody())
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      busy = false;
      if (result.ok && result.body.status !== "pending" && !fresh) return start(true); // an old, closed attempt
      if (result.ok && result.body.checkout_url) return window.location.replace(result.body.checkout_url);
      fail(result.body.error ? result.body.error.message : "Checkout could not start.");
    }).catch(function () {
      busy = false;
      fail("Could not reach the shop. Check your connection and try again.");
    });
  }

  function fail(message) {
    say(message);
    form.querySelector("button").disabled = false;
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); start(false); });
  if (oneClick) {
    oneClick.addEventListener("submit", function (event) {
      var button = oneClick.querySelector("button");
      if (button.disabled) { event.preventDefault(); return; }
      button.disabled = true;
      say("Paying…");
    });
  }
  // A choice to make, or an error to read: wait for the shopper.
  // In a social app's in-app browser too: the page shows how to open it in the real browser.
  if (saveCard || oneClick || document.getElementById("payment-error") || document.querySelector(".in-app-hint")) return;
  // A prerendered page must not start a checkout until the shopper actually sees it.
  if (document.prerendering) {
    document.addEventListener("prerenderingchange", function () { start(false); }, { once: true });
  } else {
    start(false);
  }
})();
