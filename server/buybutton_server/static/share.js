/* The Share button of a share link: the system share sheet (Web Share API) where the browser has
 * one, else copy the link to the clipboard, else select it for the shopper to copy. Without
 * JavaScript the button stays hidden and the link field still works. */
(function () {
  "use strict";
  function setUp(box) {
    var button = box.querySelector(".share-button");
    var field = box.querySelector(".share-link");
    var statusLine = box.querySelector(".share-status");
    var url = box.getAttribute("data-url");
    var title = box.getAttribute("data-title") || document.title;
    if (!button || button.getAttribute("data-ready")) return;
    button.setAttribute("data-ready", "1");
    button.textContent = navigator.share ? "Share" : "Copy link";
    button.hidden = false;

    function say(text) { statusLine.textContent = text; }
    function selectField() { field.focus(); field.select(); say("Press Ctrl+C (⌘C) to copy the link."); }

    button.addEventListener("click", function () {
      if (navigator.share) {
        navigator.share({ title: title, url: url }).catch(function (error) {
          if (error && error.name !== "AbortError") selectField(); // the shopper closed the sheet: fine
        });
        return;
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(url).then(function () { say("Link copied."); }, selectField);
        return;
      }
      selectField();
    });
    field.addEventListener("focus", function () { field.select(); });
  }
  var boxes = document.querySelectorAll(".share-box");
  for (var i = 0; i < boxes.length; i++) setUp(boxes[i]);
})();
