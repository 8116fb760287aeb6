/* The order page, after a checkout opened by a <buy-button>: tell the button's page how it went.
 * In a popup, post {type: "buybutton:purchase" | "buybutton:cancel", orderId, productId, amount,
 * currency} to the opener, with the target origin pinned to the merchant page's origin that the
 * buy page kept in this tab's sessionStorage; after a same-tab visit, offer the way back.
 * Order facts only: nothing about the shopper is sent. */
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

  var origin = null, back = null;
  try {
    origin = sessionStorage.getItem("buybutton:origin");
    back = sessionStorage.getItem("buybutton:return");
  } catch (e) { /* storage disabled: nothing to tell */ }

  if (origin && window.opener) {
    window.opener.postMessage({
      type: type,
      orderId: root.getAttribute("data-order-id"),
      productId: root.getAttribute("data-product-id"),
      amount: parseInt(root.getAttribute("data-amount"), 10),
      currency: root.getAttribute("data-currency")
    }, origin);
  }
  if (back) {
    var host;
    try { host = new URL(back).host; } catch (e) { return; } // not a URL: no way back to offer
    var link = document.createElement("a");
    link.className = "pay return";
    link.href = back;
    // The page's language: "Back to %(site)s", "Retour à %(site)s".
    var label = root.getAttribute("data-back-label") || "Back to %(site)s";
    link.textContent = label.replace("%(site)s", host);
    var line = document.createElement("p");
    line.appendChild(link);
    root.appendChild(line);
  }
})();
