// The provider pages' small helpers. Every page works without them: the server writes the same words.
// - Live countdowns to the 72-hour deadline.
// - Live sections: every few seconds the page is fetched again and each section marked data-live that changed
//   is replaced (new alerts, items to read, replies), unless the worker is in it; the title follows.
// - A form with data-confirm asks first (cancel, move, remove).
(function () {
  "use strict";

  var LIVE_EVERY_MS = 5000;

  function words(seconds) {
    var late = seconds < 0;
    seconds = Math.abs(seconds);
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var parts = days ? days + " d " + hours + " h" : hours ? hours + " h " + minutes + " min" : minutes + " min";
    return late ? "overdue by " + parts : parts + " left";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-deadline]").forEach(function (element) {
      var seconds = Math.round((Date.parse(element.getAttribute("datetime")) - now) / 1000);
      var text = words(seconds);
      if (element.textContent !== text) {
        element.textContent = text;  // not a live region: a screen reader is not interrupted every minute
      }
      element.classList.toggle("overdue", seconds < 0);
    });
  }

  function refresh() {
    if (document.hidden) {
      return;
    }
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-RHI-Live": "1" } })
      .then(function (response) {
        return response.ok && !response.redirected ? response.text() : null;
      })
      .then(function (html) {
        if (!html) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (section) {
          var replacement = fresh.getElementById(section.id);
          if (!replacement || replacement.innerHTML === section.innerHTML || section.contains(document.activeElement)) {
            return;
          }
          section.replaceWith(document.importNode(replacement, true));
        });
        if (fresh.title && fresh.title !== document.title) {
          document.title = fresh.title;
        }
        tick();
      })
      .catch(function () {});  // offline for a moment: the next refresh tries again
  }

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 30000);
    if (document.querySelector("[data-live][id]")) {
      window.setInterval(refresh, LIVE_EVERY_MS);
    }
  });
})();
