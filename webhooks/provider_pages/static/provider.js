// Live countdowns to the 72-hour deadline. The page works without this: the server writes the same words.
(function () {
  "use strict";

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

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 30000);
  });
})();
