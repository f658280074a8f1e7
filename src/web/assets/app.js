// orderflow's pages: live updates over Server-Sent Events, and the line rows of the intake form.
// Plain JavaScript, served by orderflow itself (no build step, no third-party code).
(function () {
  "use strict";

  // Live parts: elements with data-live-src are fetched again when the log moves; with
  // data-live-order, only when that order moved. The event id is the log position, so a
  // reconnecting EventSource resumes (Last-Event-ID) where it stopped.
  function refresh(region, change) {
    var active = document.activeElement;
    if (active && region.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) {
      return Promise.resolve(); // never wipe what someone is typing
    }
    return fetch(region.getAttribute("data-live-src"), {
      credentials: "same-origin",
      headers: { "Accept": "text/html" }
    }).then(function (res) {
      if (!res.ok) { return; }
      return res.text().then(function (html) {
        region.innerHTML = html;
        region.setAttribute("data-position", String(change.position));
      });
    }).catch(function () {});
  }

  // The page's one stream. It is closed when the page is left: a page kept in the browser's
  // back-forward cache would otherwise hold its connection, and after six of them (the
  // browser's connections per host) every further request of the site waits.
  var stream = null;
  window.addEventListener("pagehide", function () {
    if (stream) { stream.close(); stream = null; }
  });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted && !stream) { live(); }
  });

  function live() {
    if (!document.body.hasAttribute("data-live") || !window.EventSource) { return; }
    var es = new EventSource("/events");
    stream = es;
    var queue = Promise.resolve();
    es.addEventListener("open", function () { document.body.setAttribute("data-stream", "open"); });
    es.addEventListener("error", function () { document.body.setAttribute("data-stream", "reconnecting"); });
    es.addEventListener("change", function (e) {
      var change;
      try { change = JSON.parse(e.data); } catch (err) { return; }
      queue = queue.then(function () {
        var regions = document.querySelectorAll("[data-live-src]");
        var work = [];
        for (var i = 0; i < regions.length; i++) {
          var only = regions[i].getAttribute("data-live-order");
          if (only && !change.many && change.orders.indexOf(only) < 0) { continue; }
          work.push(refresh(regions[i], change));
        }
        return Promise.all(work).then(function () {
          document.body.setAttribute("data-position", String(change.position));
        });
      });
    });
  }

  // The intake form: add and remove line rows (a template row is cloned).
  function lines() {
    document.addEventListener("click", function (e) {
      var t = e.target;
      if (!(t instanceof Element)) { return; }
      if (t.hasAttribute("data-add-line")) {
        e.preventDefault();
        var body = document.getElementById(t.getAttribute("data-add-line"));
        var tpl = document.getElementById("line-template");
        if (body && tpl && tpl.content) { body.appendChild(tpl.content.cloneNode(true)); }
      } else if (t.hasAttribute("data-remove-line")) {
        e.preventDefault();
        var row = t.closest("tr");
        if (row && row.parentNode && row.parentNode.children.length > 1) { row.parentNode.removeChild(row); }
      }
    });
  }

  function start() { live(); lines(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
