/* Albums: copy and share links, the before/after slider, reordering (drag and drop, or the
   Move up / Move down buttons, saved at once), "select all on this page", and small form helps.
   Every page works without this file: the buttons post their forms and the page reloads. */
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  /* --- copy and share a link --------------------------------------------------------------- */
  function setupShareBoxes(root) {
    root.querySelectorAll("[data-share-box]").forEach(function (box) {
      var input = box.querySelector("[data-share-url]");
      var copy = box.querySelector("[data-copy-link]");
      var share = box.querySelector("[data-native-share]");
      var status = box.querySelector("[data-share-status]");
      if (!input) return;
      function say(text) { if (status) status.textContent = text; }
      if (copy) {
        copy.hidden = false;
        copy.addEventListener("click", function () {
          var done = function () { say("Link copied."); };
          if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(input.value).then(done, function () {
              input.select(); say("Press Ctrl+C (⌘C) to copy the selected link.");
            });
          } else {
            input.focus(); input.select();
            try { document.execCommand("copy"); done(); } catch (e) { say("Press Ctrl+C (⌘C) to copy the selected link."); }
          }
        });
      }
      if (share && navigator.share) {
        share.hidden = false;
        share.addEventListener("click", function () {
          navigator.share({ title: input.getAttribute("data-share-title") || document.title, url: input.value })
            .catch(function () { /* cancelled */ });
        });
      }
      input.addEventListener("focus", function () { input.select(); });
    });
  }

  /* --- before / after ---------------------------------------------------------------------- */
  function setupCompare(root) {
    root.querySelectorAll("[data-album-compare]").forEach(function (el) {
      var range = el.querySelector(".album-compare-range");
      var control = el.querySelector(".album-compare-control");
      if (!range || !control) return;
      var img = el.querySelector("img[width][height]");
      if (img) el.style.setProperty("--ratio", (img.getAttribute("width") / img.getAttribute("height")) || 1.5);
      el.classList.add("album-compare-active");
      control.hidden = false;
      var update = function () { el.style.setProperty("--pos", range.value + "%"); };
      range.addEventListener("input", update);
      update();
    });
  }

  /* --- select all on this page ------------------------------------------------------------- */
  function setupSelectAll(root) {
    root.querySelectorAll("[data-albums-select-all]").forEach(function (button) {
      var formId = button.getAttribute("data-albums-select-all");
      var boxes = function () {
        return Array.prototype.slice.call(document.querySelectorAll(
          "input[type=checkbox][name=image_ids]:not(:disabled)"
        )).filter(function (box) { return box.form && box.form.id === formId; });
      };
      if (!boxes().length) return;
      button.hidden = false;
      var label = function () {
        var all = boxes().every(function (box) { return box.checked; });
        button.textContent = all ? "Clear the selection" : "Select all on this page";
        return all;
      };
      button.addEventListener("click", function () {
        var all = label();
        boxes().forEach(function (box) { box.checked = !all; });
        label();
      });
      document.addEventListener("change", function (event) {
        if (event.target.name === "image_ids") label();
      });
      label();
    });
  }

  /* --- "New album…" shows its name field; "On a date…" its date ---------------------------- */
  function setupToggles(root) {
    root.querySelectorAll("[data-album-select]").forEach(function (select) {
      var row = select.closest("form, .library-albums-bar");
      var field = row && row.querySelector("[data-new-album]");
      if (!field) return;
      var update = function () { field.hidden = select.value !== "new"; };
      select.addEventListener("change", update);
      update();
    });
    root.querySelectorAll("[data-link-settings]").forEach(function (fieldset) {
      var form = fieldset.form || fieldset.closest("form");
      var radios = form ? form.querySelectorAll("input[name=privacy]") : [];
      var update = function () {
        var chosen = form.querySelector("input[name=privacy]:checked");
        fieldset.hidden = !chosen || chosen.value !== "UNLISTED";
      };
      Array.prototype.forEach.call(radios, function (radio) { radio.addEventListener("change", update); });
      if (radios.length) update();
    });
    root.querySelectorAll(".album-link-settings select[name=expiry]").forEach(function (select) {
      var row = select.form && select.form.querySelector("[data-expiry-date]");
      if (!row) return;
      var hasError = row.querySelector(".field-error");
      var update = function () { row.hidden = select.value !== "date" && !hasError; };
      select.addEventListener("change", function () { hasError = null; update(); });
      update();
    });
  }

  /* --- reorder: drag and drop, and the buttons --------------------------------------------- */
  function setupReorder(root) {
    var list = root.querySelector("[data-reorder]");
    var form = document.getElementById("album-order");
    if (!list || !form) return;
    var status = form.querySelector("[data-order-status]");
    var dragged = null;

    function items() { return Array.prototype.slice.call(list.querySelectorAll(".album-item")); }
    function say(text) { if (status) status.textContent = text; }
    function refreshButtons() {
      var all = items();
      all.forEach(function (item, index) {
        var up = item.querySelector("[data-move=up]");
        var down = item.querySelector("[data-move=down]");
        if (up) up.disabled = index === 0;
        if (down) down.disabled = index === all.length - 1;
      });
    }
    // One save at a time, each sending the order as it is when its turn comes: two quick moves
    // can never reach the server in the wrong order.
    var pending = Promise.resolve();
    function send() {
      var data = new FormData(form);  // the hidden ids, in the items' order
      say("Saving the order…");
      return fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken() }
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.error || "The order could not be saved.");
          say("Order saved.");
        });
      }).catch(function (error) {
        say((error && error.message) || "The order could not be saved.");
        window.setTimeout(function () { window.location.reload(); }, 2500);
      });
    }
    function save() { pending = pending.then(send); }
    // Without a chosen cover the first image is the cover: its badge follows the order.
    function refreshCover() {
      if (list.getAttribute("data-cover-default") !== "true") return;
      var badge = list.querySelector("[data-cover-badge]");
      var first = items()[0];
      var place = first && first.querySelector(".album-item-badges");
      if (badge && place && badge.parentNode !== place) place.insertBefore(badge, place.firstChild);
    }
    function flash(item) {
      item.classList.add("is-moved");
      window.setTimeout(function () { item.classList.remove("is-moved"); }, 600);
    }

    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-move]");
      if (!button || !list.contains(button)) return;
      event.preventDefault();
      var item = button.closest(".album-item");
      if (button.getAttribute("data-move") === "up" && item.previousElementSibling) {
        list.insertBefore(item, item.previousElementSibling);
      } else if (button.getAttribute("data-move") === "down" && item.nextElementSibling) {
        list.insertBefore(item.nextElementSibling, item);
      } else {
        return;
      }
      refreshButtons();
      refreshCover();
      flash(item);
      // keep the keyboard where it was (the same button of the moved image), unless it is disabled now
      var same = item.querySelector("[data-move=" + button.getAttribute("data-move") + "]");
      (same && !same.disabled ? same : item.querySelector("[data-move]:not(:disabled)") || same).focus();
      save();
    });

    list.addEventListener("dragstart", function (event) {
      var item = event.target.closest && event.target.closest(".album-item");
      if (!item) return;
      dragged = item;
      item.classList.add("is-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.getAttribute("data-image-id"));
    });
    list.addEventListener("dragover", function (event) {
      if (!dragged) return;
      var target = event.target.closest && event.target.closest(".album-item");
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      if (!target || target === dragged) return;
      var rect = target.getBoundingClientRect();
      var after = (event.clientX - rect.left) / rect.width > 0.5;
      items().forEach(function (i) { i.classList.toggle("is-drop-target", i === target); });
      list.insertBefore(dragged, after ? target.nextElementSibling : target);
    });
    list.addEventListener("drop", function (event) { if (dragged) event.preventDefault(); });
    list.addEventListener("dragend", function () {
      if (!dragged) return;
      var item = dragged;
      dragged = null;
      item.classList.remove("is-dragging");
      items().forEach(function (i) { i.classList.remove("is-drop-target"); });
      refreshButtons();
      refreshCover();
      flash(item);
      save();
    });
    refreshButtons();
  }

  /* --- arrow keys on a photo's page -------------------------------------------------------- */
  function setupArrowKeys(root) {
    var prev = root.querySelector("[data-key-prev]");
    var next = root.querySelector("[data-key-next]");
    if (!prev && !next) return;
    document.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      var tag = (event.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "select" || tag === "textarea") return;
      if (event.key === "ArrowLeft" && prev) window.location.href = prev.href;
      if (event.key === "ArrowRight" && next) window.location.href = next.href;
    });
  }

  function start() {
    setupShareBoxes(document);
    setupCompare(document);
    setupSelectAll(document);
    setupToggles(document);
    setupReorder(document);
    setupArrowKeys(document);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
