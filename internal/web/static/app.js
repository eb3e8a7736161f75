// calldiag: small progressive enhancements. Every page works without this.
(function () {
  "use strict";

  // Info icons: show their text in a popover on focus or hover, so the
  // explanation is reachable from the keyboard as well as the mouse.
  document.querySelectorAll(".info").forEach(function (el) {
    var text = el.getAttribute("title");
    if (!text) return;
    el.removeAttribute("title");
    var pop = null;
    function show() {
      if (pop) return;
      pop = document.createElement("span");
      pop.className = "pop";
      pop.setAttribute("role", "tooltip");
      pop.textContent = text;
      el.appendChild(pop);
    }
    function hide() { if (pop) { pop.remove(); pop = null; } }
    el.addEventListener("mouseenter", show);
    el.addEventListener("mouseleave", hide);
    el.addEventListener("focus", show);
    el.addEventListener("blur", hide);
    el.addEventListener("keydown", function (e) { if (e.key === "Escape") hide(); });
  });

  // Upload: files dropped anywhere on the upload box go in its form, which
  // is sent at once (the call id and participant typed before count).
  document.querySelectorAll("form.dropzone").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var box = form.closest("details") || form;
    ["dragenter", "dragover"].forEach(function (ev) {
      box.addEventListener(ev, function (e) {
        e.preventDefault();
        if (box.tagName === "DETAILS") box.open = true;
        form.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (ev) {
      box.addEventListener(ev, function () { form.classList.remove("dragging"); });
    });
    box.addEventListener("drop", function (e) {
      e.preventDefault();
      if (!e.dataTransfer || !e.dataTransfer.files.length) return;
      input.files = e.dataTransfer.files;
      form.requestSubmit();
    });
  });

  // Timeline: keyboard shortcuts for the zoom and pan links, and drag
  // across the lanes to zoom into that stretch of time.
  var keys = {};
  document.querySelectorAll("[data-key]").forEach(function (a) { keys[a.getAttribute("data-key")] = a; });
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.altKey || e.ctrlKey || e.metaKey || (t && /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName))) return;
    var k = e.key === "=" ? "+" : e.key;
    var a = keys[k];
    if (a) { e.preventDefault(); window.location.href = a.href; }
  });

  var wrap = document.querySelector(".tlwrap");
  var svg = wrap && wrap.querySelector("svg.timeline");
  if (!svg) return;
  var from = Date.parse(wrap.getAttribute("data-from"));
  var to = Date.parse(wrap.getAttribute("data-to"));
  var gutter = parseFloat(svg.getAttribute("data-gutter") || "160");
  var width = parseFloat(svg.getAttribute("width"));
  function timeAt(clientX) {
    var box = svg.getBoundingClientRect();
    var x = (clientX - box.left) * (width / box.width);
    var f = Math.min(1, Math.max(0, (x - gutter) / (width - gutter)));
    return from + f * (to - from);
  }
  var start = null, brush = null;
  svg.addEventListener("mousedown", function (e) {
    if (e.button !== 0 || e.target.closest("a")) return;
    start = e.clientX;
    brush = document.createElement("div");
    brush.className = "brush";
    wrap.appendChild(brush);
    e.preventDefault();
  });
  window.addEventListener("mousemove", function (e) {
    if (start === null) return;
    var box = wrap.getBoundingClientRect();
    var a = Math.min(start, e.clientX) - box.left + wrap.scrollLeft;
    var b = Math.max(start, e.clientX) - box.left + wrap.scrollLeft;
    brush.style.left = a + "px";
    brush.style.width = (b - a) + "px";
  });
  window.addEventListener("mouseup", function (e) {
    if (start === null) return;
    var a = timeAt(Math.min(start, e.clientX)), b = timeAt(Math.max(start, e.clientX));
    start = null;
    brush.remove();
    if (b - a < 1000) return;
    var u = new URL(window.location.href);
    u.searchParams.set("from", new Date(a).toISOString());
    u.searchParams.set("to", new Date(b).toISOString());
    u.searchParams.delete("event");
    u.hash = "";
    window.location.href = u.toString();
  });
})();
