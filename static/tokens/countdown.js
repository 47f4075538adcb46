// Live countdown to the next token. The server renders the seconds left (so the visitor's clock
// does not matter) and "in about N minutes" for visitors without JavaScript. When it reaches
// zero the balance card asks htmx for a fresh copy (it re-renders the badge too), or the page
// reloads when htmx is not there. Cards swapped in later are picked up on the next tick.
(function () {
  "use strict";
  var GRACE_MS = 1500; // let the server's clock pass the boundary before asking

  function format(ms) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var minutes = Math.floor(total / 60);
    var seconds = total % 60;
    return "in " + minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-token-countdown]").forEach(function (el) {
      if (!el.dataset.deadline) {
        el.dataset.deadline = String(now + Number(el.dataset.seconds || 0) * 1000);
      }
      var left = Number(el.dataset.deadline) - now;
      el.textContent = format(left);
      if (left <= -GRACE_MS && !el.dataset.fired) {
        el.dataset.fired = "1";
        if (window.htmx) {
          el.dispatchEvent(new CustomEvent("tokens-due", { bubbles: true }));
        } else {
          window.location.reload();
        }
      }
    });
  }

  tick();
  window.setInterval(tick, 1000);
})();
