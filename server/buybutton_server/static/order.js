/* The order page, after a checkout opened by a <buy-button>: tell the button's page how it went,
 * and tell the shopper what to do next.
 * - In a popup, post {type: "buybutton:purchase" | "buybutton:cancel", orderId, productId, amount,
 *   currency} to the opener, with the target origin pinned to the merchant page's origin that the
 *   buy page kept in this tab's sessionStorage. Order facts only: nothing about the shopper. The
 *   opener may be gone (a COOP header severs it): the button then learns the outcome from
 *   GET /v1/checkouts/<id> instead, so nothing here depends on window.opener.
 * - Paid, in a popup: a short confirmation, then the popup closes itself; where the browser does
 *   not let it, the page says the shopper can close it and links back to the merchant's page.
 * - Canceled (or expired): "Try again" (the buy page this tab came from) and the way back.
 * - After a same-tab visit: the way back to the merchant's page.
 * The way back is the ?return= page that the buy page kept, only if the merchant registered its
 * origin (allowed_origins). */
(function () {
  "use strict";
  var root = document.getElementById("order");
  if (!root) return;
  var checkout = root.getAttribute("data-checkout");
  var status = root.getAttribute("data-status");
  var type = null;
  if (checkout === "success" && status === "paid") type = "buybutton:purchase";
  else if (checkout === "canceled" || (checkout === "success" && status !== "pending")) type = "buybutton:cancel";
  if (!type) return; // pending: the page refreshes itself until the payment is confirmed

  var CLOSE_AFTER_MS = 1500; // long enough to read the confirmation
  // The page's language (the template's data-*-label), English by default.
  function text(name, english) { return root.getAttribute("data-" + name + "-label") || english; }
  var origin = null, back = null, buy = null, popup = false;
  try {
    origin = sessionStorage.getItem("buybutton:origin");
    back = sessionStorage.getItem("buybutton:return");
    buy = sessionStorage.getItem("buybutton:buy");
    popup = sessionStorage.getItem("buybutton:popup") === "1";
  } catch (e) { /* storage disabled: nothing to tell, nowhere to go back to */ }

  if (origin && window.opener) {
    window.opener.postMessage({
      type: type,
      orderId: root.getAttribute("data-order-id"),
      productId: root.getAttribute("data-product-id"),
      amount: parseInt(root.getAttribute("data-amount"), 10),
      currency: root.getAttribute("data-currency")
    }, origin);
  }

  var next = document.createElement("div");
  next.className = "next-steps";
  // Right under the heading, where a popup's small window shows it without scrolling.
  var heading = root.querySelector("h1");
  if (heading) heading.insertAdjacentElement("afterend", next);
  else root.appendChild(next);

  function line(text, id) {
    var p = document.createElement("p");
    p.className = "status";
    if (id) p.id = id;
    p.setAttribute("role", "status");
    p.textContent = text;
    next.appendChild(p);
    return p;
  }

  function link(href, text, className) {
    var a = document.createElement("a");
    a.className = className;
    a.href = href;
    a.textContent = text;
    var p = document.createElement("p");
    p.appendChild(a);
    next.appendChild(p);
    return a;
  }

  function backLink() {
    if (!back) return;
    var host;
    try { host = new URL(back).host; } catch (e) { return; } // not a URL: no way back to offer
    // The page's language: "Back to %(site)s", "Retour à %(site)s".
    var label = root.getAttribute("data-back-label") || "Back to %(site)s";
    link(back, label.replace("%(site)s", host), "pay return" + (type === "buybutton:cancel" ? " secondary" : ""));
  }

  if (type === "buybutton:cancel") {
    if (buy && /^https?:\/\//.test(buy)) link(buy, text("try-again", "Try again"), "pay try-again");
    backLink();
    return;
  }
  // Closed only when a <buy-button> of a registered page opened it (origin kept): that page
  // learns the outcome; any other popup stays, showing its order.
  if (!popup || !origin) { backLink(); return; }
  var note = line(text("closing", "Purchase complete. This window closes in a moment…"), "popup-note");
  setTimeout(function () {
    window.close();
    // Still here: the browser keeps windows it did not let scripts open (or a severed popup).
    setTimeout(function () {
      note.textContent = text("can-close", "You can close this window now.");
      backLink();
    }, 300);
  }, CLOSE_AFTER_MS);
})();
