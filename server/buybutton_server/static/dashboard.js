// The dashboard's progressive enhancements. Every page works without this file: forms post,
// links download, text can be selected by hand. With it, Copy buttons copy, and a price change
// asks for confirmation before the form is sent.
"use strict";
(function () {
  // Copy buttons: <button data-copy="ID"> copies the value (or text) of the element #ID.
  // Without JavaScript the buttons stay hidden ([hidden] in the HTML) and the text is selectable.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      // http:// on a LAN name is not a secure context: fall back to a selection copy.
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = "value" in source ? source.value : source.textContent;
      copyText(text).then(function () {
        button.textContent = button.getAttribute("data-copied") || label;
        button.setAttribute("data-state", "copied");
        window.setTimeout(function () {
          button.textContent = label;
          button.removeAttribute("data-state");
        }, 2000);
      }, function () {
        if (source.select) { source.focus(); source.select(); }
      });
    });
  });

  // Select the whole snippet or link on focus, so a manual copy takes one keystroke.
  document.querySelectorAll("[data-select-on-focus]").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });

  // A product form whose price or currency changed asks before saving (links stop selling).
  document.querySelectorAll("form[data-price-warning]").forEach(function (form) {
    var dialog = document.getElementById(form.getAttribute("data-price-warning"));
    var price = form.querySelector("[name=price]");
    var currency = form.querySelector("[name=currency]");
    var confirmed = form.querySelector("input[type=hidden][name=confirm_price_change]");
    if (!dialog || !price || !currency || !confirmed || !dialog.showModal) { return; }
    var original = [price.value, currency.value];
    form.addEventListener("submit", function (event) {
      var changed = price.value.trim() !== original[0].trim() || currency.value !== original[1];
      if (!changed || confirmed.value === "yes") { return; }
      event.preventDefault();
      dialog.showModal();
    });
    dialog.querySelector("[data-confirm]").addEventListener("click", function () {
      confirmed.value = "yes";
      dialog.close();
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
    dialog.querySelector("[data-cancel]").addEventListener("click", function () { dialog.close(); });
  });

  // An image over the server's limit is refused before it is sent (the form keeps its input);
  // the server checks again, whatever the browser says.
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    var limit = Number(input.getAttribute("data-max-bytes"));
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      input.setCustomValidity(file && file.size > limit ? input.getAttribute("data-too-large") : "");
      input.reportValidity();
    });
  });

  // Buttons that destroy something ask first (the server still requires the form's token).
  document.querySelectorAll("form[data-confirm-message]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm-message"))) { event.preventDefault(); }
    });
  });
})();
