/* Upload page: drag and drop, a list of the chosen files, a progress bar.
 *
 * Progressive enhancement of a plain multipart form that works without JavaScript. The same form
 * is posted (XMLHttpRequest, for upload progress events); the server answers with the HTML page,
 * and its per-file results replace ours. The server checks everything again: the limits here
 * only save people a long wait for an upload that would be refused.
 */
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;

  var input = form.querySelector('input[type="file"][name="files"]');
  var zone = form.querySelector("[data-drop-zone]");
  var list = form.querySelector("[data-file-list]");
  var hint = form.querySelector("[data-drop-hint]");
  var progress = form.querySelector("[data-progress]");
  var bar = progress && progress.querySelector("progress");
  var barText = progress && progress.querySelector("[data-progress-text]");
  var clientError = form.querySelector("[data-client-error]");
  var submit = form.querySelector("[data-submit]");
  var results = document.getElementById("upload-results");
  var maxFiles = parseInt(input.getAttribute("data-max-files"), 10) || 20;
  var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10) || 50 * 1024 * 1024;
  var busy = false;

  function formatBytes(n) {
    if (n >= 1024 * 1024) return (n / (1024 * 1024)).toFixed(1) + " MB";
    if (n >= 1024) return Math.round(n / 1024) + " KB";
    return n + " bytes";
  }

  function showError(text) {
    clientError.textContent = text || "";
    clientError.hidden = !text;
  }

  function problems() {
    var files = input.files || [];
    if (!files.length) return "Choose at least one image to upload.";
    if (files.length > maxFiles) {
      return "You can upload at most " + maxFiles + " files at once; you chose " + files.length + ".";
    }
    return "";
  }

  function renderList() {
    list.textContent = "";
    var files = input.files || [];
    for (var i = 0; i < files.length; i++) {
      var li = document.createElement("li");
      li.textContent = files[i].name + " (" + formatBytes(files[i].size) + ")";
      if (files[i].size > maxBytes) {
        li.className = "too-big";
        li.textContent += " — larger than " + formatBytes(maxBytes) + ", it will be refused";
      }
      list.appendChild(li);
    }
    showError(files.length > maxFiles ? problems() : "");
  }

  input.addEventListener("change", renderList);

  // Drag and drop, where the browser lets a script hand dropped files to a file input.
  var canAssignFiles = (function () {
    try {
      return typeof DataTransfer === "function" && "files" in new DataTransfer();
    } catch (e) {
      return false;
    }
  })();
  if (zone && canAssignFiles) {
    if (hint) hint.hidden = false;
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("is-dragover");
      });
    });
    ["dragleave", "dragend", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () {
        zone.classList.remove("is-dragover");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      var transfer = new DataTransfer();
      var dropped = event.dataTransfer.files;
      for (var i = 0; i < dropped.length; i++) transfer.items.add(dropped[i]);
      input.files = transfer.files;
      renderList();
    });
  }

  function setBusy(on) {
    busy = on;
    submit.disabled = on;
    progress.hidden = !on;
    if (on) setProgress(0);
  }

  function setProgress(percent) {
    bar.value = percent;
    bar.textContent = percent + "%";
    barText.textContent = percent < 100 ? percent + "%" : "Processing…";
  }

  function showResponse(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("upload-results");
    var freshErrors = doc.querySelectorAll("#upload-form .field-error");
    if (fresh) results.innerHTML = fresh.innerHTML;
    if (freshErrors.length) {
      showError(freshErrors[0].textContent);
    } else if (!fresh || !fresh.textContent.trim()) {
      showError("The upload did not go through. Please try again.");
    }
    results.scrollIntoView({ behavior: "smooth", block: "start" });
    // Keyboard and screen-reader users land on the outcome, not on the top of the page.
    var heading = document.getElementById("upload-results-title");
    if (heading) heading.focus({ preventScroll: true });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;
    var problem = problems();
    if (problem) {
      showError(problem);
      input.focus();
      return;
    }
    showError("");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) setProgress(Math.round((e.loaded / e.total) * 100));
    });
    xhr.addEventListener("load", function () {
      setBusy(false);
      showResponse(xhr.responseText);
      // Every file got its answer; after a rate limit or a server error, keep the choice to retry.
      if (xhr.status < 500 && xhr.status !== 429) {
        form.reset();
        list.textContent = "";
      }
    });
    xhr.addEventListener("error", function () {
      setBusy(false);
      showError("The connection was lost during the upload. Please try again.");
    });
    xhr.addEventListener("abort", function () {
      setBusy(false);
    });
    setBusy(true);
    xhr.send(new FormData(form));
  });
})();
