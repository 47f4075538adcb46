/* Enhancement jobs: the before/after slider and a little help against double submits.
   Everything works without this file: the comparison is then shown side by side, and the
   server turns a double-submitted order into one job (the form's request key). */
(function () {
  "use strict";
  function activate(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var found = Array.prototype.slice.call(scope.querySelectorAll("[data-compare]"));
    if (scope.matches && scope.matches("[data-compare]")) found.push(scope);
    found.forEach(function (el) {
      if (el.classList.contains("job-compare-active")) return;
      var range = el.querySelector(".job-compare-range");
      var control = el.querySelector(".job-compare-control");
      if (!range || !control) return;
      el.classList.add("job-compare-active");
      control.hidden = false;
      el.style.setProperty("--pos", range.value + "%");
    });
  }

  document.addEventListener("input", function (event) {
    var range = event.target;
    if (!range.classList || !range.classList.contains("job-compare-range")) return;
    var el = range.closest("[data-compare]");
    if (el) el.style.setProperty("--pos", range.value + "%");
  });

  // Dragging or clicking on the picture itself moves the divider there (mouse, pen, touch;
  // vertical swipes still scroll the page: touch-action in the CSS).
  function moveTo(stage, clientX) {
    var el = stage.closest("[data-compare]");
    var range = el && el.querySelector(".job-compare-range");
    if (!range) return;
    var box = stage.getBoundingClientRect();
    if (!box.width) return;
    var percent = Math.round(Math.min(100, Math.max(0, ((clientX - box.left) / box.width) * 100)));
    range.value = String(percent);
    el.style.setProperty("--pos", percent + "%");
  }
  document.addEventListener("pointerdown", function (event) {
    var stage = event.target.closest && event.target.closest(".job-compare-active .job-compare-stage");
    if (!stage || event.button > 0) return;
    event.preventDefault();
    stage.setPointerCapture(event.pointerId);
    stage.classList.add("job-compare-dragging");
    moveTo(stage, event.clientX);
  });
  document.addEventListener("pointermove", function (event) {
    var stage = event.target.closest && event.target.closest(".job-compare-dragging");
    if (stage) moveTo(stage, event.clientX);
  });
  ["pointerup", "pointercancel"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var stage = event.target.closest && event.target.closest(".job-compare-dragging");
      if (!stage) return;
      stage.classList.remove("job-compare-dragging");
      var range = stage.closest("[data-compare]").querySelector(".job-compare-range");
      if (range) range.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });

  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("[data-disable-on-submit]");
    if (!button) return;
    // After this tick, so the submission itself goes ahead.
    setTimeout(function () {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    }, 0);
  });

  // Coming back with the browser's Back button: the page may come from the cache, disabled.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("[data-disable-on-submit][disabled]").forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  });

  // New job cards swapped in by htmx polling.
  document.addEventListener("htmx:load", function (event) { activate(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { activate(document); });
  } else {
    activate(document);
  }
})();
