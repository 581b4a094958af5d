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
  // UTC, labelled as such; with it, the label says "Your time", and the time
  // is written in the page's language (its digits as the server wrote them).
  var locale = document.documentElement.lang ? document.documentElement.lang + "-u-nu-latn" : undefined;
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) { return; }
    el.textContent = when.toLocaleString(locale, {
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

  // Live count: refresh from count.json while someone is looking. The
  // count is a live region, so it is written only when the number has
  // changed: a screen reader announces each change, and nothing else.
  // Every open page costs the site a request per poll, so a page polls
  // only while it can be seen and is in use: not at all while its tab is
  // hidden (once at once when it is shown again), and it stops after
  // IDLE_MS without a key, a touch, a scroll or a move of the pointer (the
  // next one polls at once and starts again).
  var POLL_MS = 5000;
  var IDLE_MS = 10 * 60 * 1000;
  var tallies = Array.prototype.slice.call(document.querySelectorAll("[data-count-url]"));
  if (tallies.length && window.fetch) {
    // Written as the page wrote its count: groups of three digits with the
    // separator of the page's language (the tally's data-thousands).
    var number = function (value, separator) {
      return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, separator);
    };
    var show = function (el, value, separator) {
      var text = number(value, separator);
      if (el && el.textContent !== text) { el.textContent = text; }
    };
    // A milestone is the goal the page was showing, or a round number from
    // 100 up: 1, 2 or 5 times a power of ten (100, 200, 500, 1,000, 2,000,
    // ...), the steps by which a reached goal is raised on the server
    // (counts.displayed_goal). When a poll finds several passed at once,
    // only the highest is announced; each is announced at most once per page.
    var roundBelow = function (n) {
      if (n < 100) { return 0; }
      var power = Math.pow(10, String(Math.floor(n)).length - 1);
      var lead = Math.floor(n / power);
      return (lead >= 5 ? 5 : lead >= 2 ? 2 : 1) * power;
    };
    var counters = tallies.map(function (tally) {
      var url = tally.getAttribute("data-count-url");
      var countEl = tally.querySelector("[data-count]");
      var goalEl = tally.querySelector("[data-goal]");
      var bar = tally.querySelector("[data-progress]");
      var note = tally.querySelector("[data-milestone]");
      var count = Number(tally.getAttribute("data-count-number")) || 0;
      var goal = Number(tally.getAttribute("data-goal-number")) || 0;
      var separator = tally.getAttribute("data-thousands") || ",";
      var announced = {};
      var announce = function (was, now, goalWas) {
        var milestone = 0, template = null;
        if (goalWas > was && goalWas <= now) {
          milestone = goalWas;
          template = tally.getAttribute("data-goal-text");
        } else if (roundBelow(now) > was) {
          milestone = roundBelow(now);
          template = tally.getAttribute("data-milestone-text");
        }
        if (!milestone || !template || !note || announced[milestone]) { return; }
        announced[milestone] = true;
        note.textContent = template.replace("{number}", number(milestone, separator));
      };
      return function () {
        fetch(url, { headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!data || typeof data.signatures !== "number") { return; }
            if (data.signatures > count) { announce(count, data.signatures, goal); }
            count = data.signatures;
            goal = data.goal;
            show(countEl, data.signatures, separator);
            show(goalEl, data.goal, separator);
            if (bar && (bar.max !== data.goal || bar.value !== data.signatures)) {
              bar.max = data.goal;
              bar.value = data.signatures;
            }
          })
          .catch(function () {});
      };
    });
    var poll = function () { counters.forEach(function (refresh) { refresh(); }); };
    var timer = null;
    var lastInput = Date.now();
    var stop = function () {
      if (timer !== null) { clearInterval(timer); timer = null; }
    };
    var start = function () {
      if (timer === null && !document.hidden) {
        timer = setInterval(function () {
          if (Date.now() - lastInput >= IDLE_MS) { stop(); } else { poll(); }
        }, POLL_MS);
      }
    };
    var wake = function () {
      lastInput = Date.now();
      if (timer === null && !document.hidden) { poll(); start(); }
    };
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) { stop(); } else { wake(); }
    });
    ["keydown", "pointerdown", "pointermove", "touchstart", "wheel", "scroll"].forEach(function (type) {
      window.addEventListener(type, wake, { capture: true, passive: true });
    });
    start();
  }

  // The poster's "Print" button: without a script, the page says how to print.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    if (!window.print) { return; }
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

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

// Where the signer came from (see campaign/provenance.py): the campaign page
// is one cached page for everyone, so its sign form's hidden source fields
// come empty; copy them from this page's address. Without this the POST's
// Referer carries the same address, and the server reads it there.
(function () {
  "use strict";
  if (!window.URLSearchParams) { return; }
  var query = new URLSearchParams(window.location.search);
  document.querySelectorAll("input[data-link-code]").forEach(function (input) {
    var value = query.get(input.name) || (input.name === "source" ? query.get("utm_source") : null);
    if (value && !input.value) { input.value = value.slice(0, 256); }
  });
})();
