/* Progressive enhancement of the <details class="menu"> menus (they work without it): a click
   elsewhere, the Escape key or focus moving out of the menu (Tab past its last entry) closes an
   open menu, so its panel never hides the control that has the focus. */
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      d.removeAttribute("open");
      d.querySelector("summary").focus();
    });
  });
  document.addEventListener("focusout", function (e) {
    // relatedTarget is where the focus goes; none (another window, a click on plain text in
    // the panel) leaves the menu as it is: the click handler above deals with clicks.
    var next = e.relatedTarget;
    if (!next) return;
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (d.contains(e.target) && !d.contains(next)) d.removeAttribute("open");
    });
  });
})();
