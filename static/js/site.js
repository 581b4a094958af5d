// Progressive enhancement only: every page works without this file.
// Words a person reads come from the page (translated there), never from here.
(function () {
  "use strict";

  // A form sent back with errors: its summary takes the focus, so a screen
  // reader starts there. The summary's autofocus does this without
  // JavaScript, except where a browser skips autofocus (a #fragment in the
  // address) or the summary is not the macro's.
  var summary = document.querySelector(".error-summary");
  if (summary && (!document.activeElement || document.activeElement === document.body)) {
    summary.focus();
  }

  // Times in the viewer's own zone. Without this the page says the time in
  // UTC, labelled as such; with it, the label says "Your time".
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) { return; }
    el.textContent = when.toLocaleString(undefined, {
      weekday: "long", day: "numeric", month: "long", year: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
    var label = el.parentNode.querySelector("[data-local-label]");
    if (label) { label.textContent = label.getAttribute("data-local-label"); }
  });

  // A freeze's sign form: the browser's time zone, so reminders come at
  // the right hour (without it, the signer's country's zone is used).
  document.querySelectorAll("input[data-time-zone]").forEach(function (input) {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone && !input.value) { input.value = zone; }
    } catch (e) { /* an old browser: the country's zone will do */ }
  });

  // Countdown to the start of a window, in whole minutes, changing once a
  // minute (WCAG 2.2.2: nothing on the page moves every second).
  document.querySelectorAll("[data-countdown]").forEach(function (el) {
    var start = new Date(el.getAttribute("data-countdown")).getTime();
    var template = el.getAttribute("data-countdown-text");
    var started = el.getAttribute("data-countdown-done");
    if (isNaN(start) || !template) { return; }
    function tick() {
      var left = start - Date.now();
      if (left <= 0) {
        el.textContent = started;
      } else {
        var minutes = Math.ceil(left / 60000);
        el.textContent = template
          .replace("{days}", Math.floor(minutes / 1440))
          .replace("{hours}", Math.floor(minutes % 1440 / 60))
          .replace("{minutes}", minutes % 60);
        // Next when the whole minutes left go down by one.
        setTimeout(tick, left % 60000 || 60000);
      }
      el.hidden = false;
    }
    tick();
  });

  // Live count: refresh from count.json every few seconds. The count is a
  // live region, so it is written only when the number has changed: a
  // screen reader announces each change, and nothing else.
  var campaign = document.querySelector("[data-count-url]");
  if (campaign && window.fetch) {
    var url = campaign.getAttribute("data-count-url");
    var countEl = campaign.querySelector("[data-count]");
    var goalEl = campaign.querySelector("[data-goal]");
    var bar = campaign.querySelector("[data-progress]");
    var show = function (el, value) {
      var text = value.toLocaleString("en");
      if (el && el.textContent !== text) { el.textContent = text; }
    };
    var refresh = function () {
      fetch(url, { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          show(countEl, data.signatures);
          show(goalEl, data.goal);
          if (bar && (bar.max !== data.goal || bar.value !== data.signatures)) {
            bar.max = data.goal;
            bar.value = data.signatures;
          }
        })
        .catch(function () {});
    };
    setInterval(refresh, 5000);
  }

  // Copy a link (an input's value) or a text (a freeze's statement): the
  // button is shown only where the browser can copy.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var input = document.querySelector(button.getAttribute("data-copy"));
    if (!input || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = "value" in input ? input.value : input.textContent.trim();
      navigator.clipboard.writeText(text).then(function () {
        button.textContent = button.getAttribute("data-copied") || button.textContent;
      });
    });
  });
})();
