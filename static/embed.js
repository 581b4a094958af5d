// A campaign's sign form on a partner's site. The partner pastes
//   <script src="https://OUR-SITE/static/embed.js" data-campaign="SLUG"
//           data-title="TITLE" async></script>
// and this puts the campaign's embed page in a frame where the script is,
// then keeps the frame as tall as its content. Inside that frame (our own
// embed page loads this file too) it tells the page around it its height,
// and tells our sign form which site it is on. No dependencies; the frame
// works without it (at a fixed height).
(function () {
  "use strict";
  var MESSAGE = "campaign-embed-height";
  var CODES = ["source", "utm_source", "utm_medium", "utm_campaign", "ref"];

  if (document.documentElement.hasAttribute("data-embed-page")) {
    if (window.parent === window) { return; }
    // The site around the frame: the browser's own word where it gives it,
    // else the page that opened the frame (sent as its origin), but not
    // our own page after a POST inside the frame.
    var partner = "";
    try {
      if (location.ancestorOrigins && location.ancestorOrigins.length) {
        partner = location.ancestorOrigins[0];
      } else if (document.referrer) {
        partner = new URL(document.referrer).origin;
      }
    } catch (e) { partner = ""; }
    if (partner && partner !== location.origin) {
      document.querySelectorAll("form[action*='/embed/sign']").forEach(function (form) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "partner";
        input.value = partner;
        form.appendChild(input);
      });
    }
    var body = document.body;
    var told = 0;
    var tell = function () {
      var style = getComputedStyle(body);
      var height = Math.ceil(body.getBoundingClientRect().height + parseFloat(style.marginTop) +
                             parseFloat(style.marginBottom));
      if (height !== told) {
        told = height;
        // Only a number, which any page may know: "*" because the partner's
        // origin is not always known (a browser may send no referrer).
        window.parent.postMessage({ type: MESSAGE, height: height }, "*");
      }
    };
    if (window.ResizeObserver) { new ResizeObserver(tell).observe(body); }
    window.addEventListener("load", tell);
    tell();
    return;
  }

  // On the partner's page: this very script tag (a classic script knows
  // itself, async or not), used once.
  var script = document.currentScript;
  if (!script || !script.getAttribute("data-campaign") || script.hasAttribute("data-embedded")) { return; }
  script.setAttribute("data-embedded", "");
  var site = new URL(script.src, location.href);
  var address = new URL("/c/" + encodeURIComponent(script.getAttribute("data-campaign")) + "/embed", site);
  address.searchParams.set("partner", location.origin);
  // The partner's own link codes (?utm_campaign=... on its page) go along.
  var query = new URLSearchParams(location.search);
  CODES.forEach(function (key) {
    var value = query.get(key);
    if (value) { address.searchParams.set(key, value.slice(0, 64)); }
  });
  var frame = document.createElement("iframe");
  frame.src = address.href;
  frame.title = script.getAttribute("data-title") || script.getAttribute("data-campaign");
  frame.style.width = "100%";
  frame.style.height = "640px";
  frame.style.border = "0";
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (event) {
    // Only our site's frame, and only this script's own frame.
    if (event.origin !== site.origin || event.source !== frame.contentWindow) { return; }
    var data = event.data;
    if (!data || data.type !== MESSAGE || typeof data.height !== "number" || !isFinite(data.height)) { return; }
    frame.style.height = Math.max(80, Math.min(Math.ceil(data.height), 20000)) + "px";
  });
})();
