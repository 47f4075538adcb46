// The library: "Select all on this page" ticks (or unticks) every image on the page for the
// batch bar's actions. Without JavaScript the button stays hidden and each box works alone.
(function () {
  "use strict";
  var button = document.querySelector("[data-select-all]");
  if (!button) return;
  var boxes = function () {
    return Array.prototype.slice.call(
      document.querySelectorAll('input[type="checkbox"][name="image_ids"][form="batch-form"]')
    );
  };
  var label = function () {
    var all = boxes();
    var ticked = all.length && all.every(function (box) { return box.checked; });
    button.textContent = ticked ? "Clear the selection" : "Select all on this page";
    button.setAttribute("aria-pressed", ticked ? "true" : "false");
  };
  button.hidden = false;
  button.addEventListener("click", function () {
    var all = boxes();
    var tick = !all.every(function (box) { return box.checked; });
    all.forEach(function (box) { box.checked = tick; });
    label();
  });
  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "image_ids") label();
  });
  label();

  // The batch bar's actions with nothing ticked: say so here, not on an error page.
  var form = document.getElementById("batch-form");
  var note = document.querySelector("[data-batch-note]");
  if (form && note) {
    form.addEventListener("submit", function (event) {
      if (boxes().some(function (box) { return box.checked; })) {
        note.textContent = "";
        return;
      }
      event.preventDefault();
      note.textContent = "Tick at least one image below first.";
      var first = boxes()[0];
      if (first) first.focus();
    });
  }
})();
