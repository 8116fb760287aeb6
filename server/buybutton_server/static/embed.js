/* The iframe card (/embed/TOKEN) inside hosts that sandbox it.
 *
 * WordPress frames oEmbed cards with sandbox="allow-scripts": no popups, no top navigation,
 * so a plain target=_blank link would do nothing. WordPress appends "#?secret=…" to the
 * frame's URL and its host script (wp-embed) listens for {message, value, secret}: "height"
 * resizes the frame, "link" sends the top window to a URL on the frame's own host. With a
 * secret we speak that protocol; without one (other hosts) the links work as they are. */
(function () {
  "use strict";
  var match = /[#&?]secret=([A-Za-z0-9]+)/.exec(window.location.hash);
  var secret = match ? match[1] : null;
  if (!secret || window.parent === window) return;

  function post(message, value) {
    window.parent.postMessage({ message: message, value: value, secret: secret }, "*");
  }

  function sendHeight() { post("height", Math.ceil(document.documentElement.scrollHeight)); }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link) return;
    event.preventDefault();
    post("link", link.href);
  });
  window.addEventListener("load", sendHeight);
  sendHeight();
})();
