// The TEST MODE payment page: keep the shown total in step with the shipping method chosen.
// The form works without this script; the server computes the amount charged either way.
(function () {
  "use strict";
  var form = document.querySelector("form.buyer-form");
  if (!form) return;
  function update() {
    var chosen = form.querySelector('input[name="shipping_rate"]:checked');
    if (!chosen) return;
    var total = chosen.getAttribute("data-total");
    document.querySelectorAll("#pay-total, #total, .pay-amount").forEach(function (node) {
      node.textContent = total;
    });
    var shipping = document.getElementById("shipping-amount");
    if (shipping) shipping.textContent = chosen.getAttribute("data-price");
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "shipping_rate") update();
  });
})();
