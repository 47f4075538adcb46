/* The slideshow: one photo at a time, full screen on request, so a spare screen can be a photo
   frame. The viewer chooses the interval and the order (in order or shuffled), both remembered
   on this device. Keyboard: ← → to move, space to pause or play, F for full screen, Escape to
   leave full screen (then the slideshow). Swipe left or right on a touch screen. The next photo
   is loaded before it is shown. The photos' addresses are signed and expire: the list is fetched
   again before they do (and when a photo fails to load), so the frame keeps running for days;
   when the album stops being shared, the slideshow says so and stops.
   Without JavaScript the page shows the photos one under the other. */
(function () {
  "use strict";
  var root = document.querySelector("[data-slideshow]");
  if (!root) return;
  var list = root.querySelector("[data-slideshow-list]");
  var stage = root.querySelector("[data-slideshow-stage]");
  var caption = root.querySelector("[data-slideshow-caption]");
  var controls = root.querySelector("[data-slideshow-controls]");
  var help = root.querySelector("[data-slideshow-help]");
  var bar = root.querySelector("[data-slideshow-bar]");
  var playButton = root.querySelector("[data-action=play]");
  var intervalSelect = root.querySelector("[data-option=interval]");
  var orderSelect = root.querySelector("[data-option=order]");
  if (!list || !stage) return;

  var STORE = "lumen.slideshow";
  var slides = [];
  var order = [];
  var position = 0;
  var playing = true;
  var timer = null;
  var refreshTimer = null;
  var idleTimer = null;
  var current = null;
  var preloaded = {};
  var failed = false;

  function readSlides() {
    return Array.prototype.slice.call(list.querySelectorAll("li[data-src]")).map(function (li) {
      return {
        id: li.getAttribute("data-slide-id"),
        url: li.getAttribute("data-src"),
        name: li.getAttribute("data-name") || "",
        width: +li.getAttribute("data-width") || 0,
        height: +li.getAttribute("data-height") || 0,
        start: li.hasAttribute("data-start")
      };
    });
  }

  function settings() {
    try { return JSON.parse(window.localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  }
  function remember() {
    try {
      window.localStorage.setItem(STORE, JSON.stringify({ interval: intervalSelect.value, order: orderSelect.value }));
    } catch (e) { /* private mode: fine */ }
  }

  function shuffled(count, first) {
    var indexes = [];
    for (var i = 0; i < count; i++) indexes.push(i);
    for (var j = count - 1; j > 0; j--) {
      var k = Math.floor(Math.random() * (j + 1));
      var t = indexes[j]; indexes[j] = indexes[k]; indexes[k] = t;
    }
    if (first != null) {  // keep the photo on screen where it is
      indexes.splice(indexes.indexOf(first), 1);
      indexes.unshift(first);
    }
    return indexes;
  }
  function makeOrder(keepIndex) {
    if (orderSelect.value === "shuffle") {
      order = shuffled(slides.length, keepIndex);
      position = 0;
    } else {
      order = slides.map(function (_s, i) { return i; });
      position = keepIndex != null ? keepIndex : 0;
    }
  }

  function slideAt(offset) {
    if (!slides.length) return null;
    var index = (position + offset + order.length * 2) % order.length;
    return slides[order[index]];
  }

  function preload(slide) {
    if (!slide || preloaded[slide.url]) return;
    var img = new Image();
    img.decoding = "async";
    img.src = slide.url;
    preloaded[slide.url] = img;
  }

  function show() {
    var slide = slideAt(0);
    if (!slide) return;
    var img = document.createElement("img");
    img.className = "slideshow-image";
    img.alt = slide.name;
    if (slide.width && slide.height) { img.width = slide.width; img.height = slide.height; }
    img.addEventListener("error", function () { failed = true; refresh(); });
    img.addEventListener("load", function () {
      img.classList.add("is-shown");
      if (current && current !== img && current.parentNode) {
        var old = current;
        window.setTimeout(function () { if (old.parentNode) old.parentNode.removeChild(old); }, 700);
      }
      current = img;
    });
    img.src = slide.url;
    Array.prototype.slice.call(stage.children).forEach(function (child) {
      if (child !== current) stage.removeChild(child);  // never let failed or skipped ones pile up
    });
    stage.appendChild(img);
    caption.textContent = slide.name + "  ·  " + (order[position] + 1) + " / " + slides.length;
    preload(slideAt(1));
    schedule();
  }

  function go(offset) {
    if (!slides.length) return;
    position = (position + offset + order.length) % order.length;
    if (position === 0 && offset > 0 && orderSelect.value === "shuffle") {
      order = shuffled(slides.length, null);  // a new round, a new shuffle
    }
    show();
  }

  function schedule() {
    window.clearTimeout(timer);
    if (!playing || slides.length < 2) return;
    timer = window.setTimeout(function () { go(1); }, (+intervalSelect.value || 5) * 1000);
  }

  function setPlaying(value) {
    playing = value;
    playButton.setAttribute("aria-pressed", String(playing));
    playButton.setAttribute("aria-label", playing ? "Pause" : "Play");
    playButton.textContent = playing ? "❚❚" : "▶";
    schedule();
  }

  function fullscreen() {
    if (document.fullscreenElement) {
      document.exitFullscreen();
    } else if (root.requestFullscreen) {
      root.requestFullscreen().catch(function () { /* refused: stay as we are */ });
    }
  }

  /* fresh signed addresses, well before the old ones expire */
  function refresh() {
    var url = root.getAttribute("data-slides-url");
    if (!url) return;
    window.clearTimeout(refreshTimer);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 404) throw new Error("gone");
        if (!response.ok) throw new Error("later");
        return response.json();
      })
      .then(function (data) {
        var showing = slideAt(0);
        slides = (data.slides || []).map(function (s) {
          return { id: s.id, url: s.url, name: s.name, width: s.width, height: s.height };
        });
        preloaded = {};
        if (!slides.length) { stop("This album has no photos any more."); return; }
        var keep = null;
        slides.forEach(function (s, i) { if (showing && s.id === showing.id) keep = i; });
        makeOrder(keep);
        if (keep === null || failed) show(); else preload(slideAt(1));
        failed = false;
        refreshTimer = window.setTimeout(refresh, (data.refresh_after || 1800) * 1000);
      })
      .catch(function (error) {
        if (error && error.message === "gone") { stop("This album is no longer shared with you."); return; }
        refreshTimer = window.setTimeout(refresh, 60 * 1000);  // offline for a moment: try again
      });
  }

  function stop(message) {
    window.clearTimeout(timer);
    window.clearTimeout(refreshTimer);
    slides = [];
    stage.textContent = "";
    caption.textContent = message;
  }

  /* controls fade away while nothing moves (a photo frame shows just the photo) */
  function wake() {
    root.classList.remove("is-idle");
    window.clearTimeout(idleTimer);
    idleTimer = window.setTimeout(function () {
      if (!root.contains(document.activeElement) || document.activeElement === document.body ||
          document.activeElement.tagName === "BUTTON") {
        root.classList.add("is-idle");
      }
    }, 3000);
  }

  function start() {
    slides = readSlides();
    if (!slides.length) return;
    var saved = settings();
    if (saved.interval && intervalSelect.querySelector("option[value='" + saved.interval + "']")) intervalSelect.value = saved.interval;
    if (saved.order === "shuffle" || saved.order === "album") orderSelect.value = saved.order;
    var first = 0;
    slides.forEach(function (s, i) { if (s.start) first = i; });
    makeOrder(first);
    root.classList.add("is-running");
    controls.hidden = false;
    if (help) help.hidden = false;
    show();
    refreshTimer = window.setTimeout(refresh, (+root.getAttribute("data-refresh-after") || 1800) * 1000);
    wake();
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) return;
    var action = button.getAttribute("data-action");
    if (action === "prev") go(-1);
    else if (action === "next") go(1);
    else if (action === "play") setPlaying(!playing);
    else if (action === "fullscreen") fullscreen();
  });
  stage.addEventListener("click", function () { wake(); });
  stage.addEventListener("dblclick", fullscreen);
  intervalSelect.addEventListener("change", function () { remember(); schedule(); });
  orderSelect.addEventListener("change", function () {
    remember();
    var showing = order[position];
    makeOrder(showing);
    preload(slideAt(1));
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.tagName === "SELECT") return;
    wake();
    if (event.key === "ArrowRight" || event.key === "PageDown") { event.preventDefault(); go(1); }
    else if (event.key === "ArrowLeft" || event.key === "PageUp") { event.preventDefault(); go(-1); }
    else if (event.key === " " || event.key === "Spacebar") {
      if (event.target.tagName === "BUTTON") return;  // a focused button takes its own space
      event.preventDefault(); setPlaying(!playing);
    }
    else if (event.key === "f" || event.key === "F") fullscreen();
    else if (event.key === "Escape") {
      // The browser usually leaves full screen itself on Escape; where the key reaches us
      // instead, leave it here. Outside full screen, Escape leaves the slideshow.
      if (document.fullscreenElement) document.exitFullscreen();
      else window.location.href = root.getAttribute("data-back-url");
    }
  });
  document.addEventListener("fullscreenchange", function () {
    root.classList.toggle("is-fullscreen", !!document.fullscreenElement);
  });
  ["mousemove", "pointerdown", "touchstart"].forEach(function (name) {
    root.addEventListener(name, wake, { passive: true });
  });

  /* swipe */
  var swipeX = null, swipeY = null;
  stage.addEventListener("pointerdown", function (event) { swipeX = event.clientX; swipeY = event.clientY; });
  stage.addEventListener("pointerup", function (event) {
    if (swipeX === null) return;
    var dx = event.clientX - swipeX, dy = event.clientY - swipeY;
    swipeX = null;
    if (Math.abs(dx) > 40 && Math.abs(dx) > Math.abs(dy)) go(dx < 0 ? 1 : -1);
  });
  stage.addEventListener("pointercancel", function () { swipeX = null; });

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) window.clearTimeout(timer); else schedule();
  });

  start();
})();
