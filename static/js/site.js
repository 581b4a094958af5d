// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Times in the viewer's own zone.
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) {
      el.textContent = when.toLocaleString(undefined, {
        weekday: "long", day: "numeric", month: "long", year: "numeric",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short"
      });
    }
  });

  // Countdown to the start of a window.
  document.querySelectorAll("[data-countdown]").forEach(function (el) {
    var start = new Date(el.getAttribute("data-countdown")).getTime();
    function tick() {
      var left = Math.max(0, Math.floor((start - Date.now()) / 1000));
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600),
          m = Math.floor(left % 3600 / 60), s = left % 60;
      el.textContent = "Starts in " + d + "d " + h + "h " + m + "m " + s + "s";
      el.hidden = false;
      if (left > 0) { setTimeout(tick, 1000); }
    }
    tick();
  });

  // Live count: refresh from count.json every few seconds.
  var campaign = document.querySelector("[data-count-url]");
  if (campaign && window.fetch) {
    var url = campaign.getAttribute("data-count-url");
    var countEl = campaign.querySelector("[data-count]");
    var goalEl = campaign.querySelector("[data-goal]");
    var bar = campaign.querySelector("[data-progress]");
    var refresh = function () {
      fetch(url, { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          if (countEl) { countEl.textContent = data.signatures.toLocaleString("en"); }
          if (goalEl) { goalEl.textContent = data.goal.toLocaleString("en"); }
          if (bar) { bar.max = data.goal; bar.value = data.signatures; }
        })
        .catch(function () {});
    };
    setInterval(refresh, 5000);
  }

  // Copy link.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var input = document.querySelector(button.getAttribute("data-copy"));
    if (!input || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = "Copied";
      });
    });
  });
})();
