// Praxi staff UI enhancements. The pages work without JavaScript; this file only adds live
// updates (Server-Sent Events), confirmation prompts and small conveniences. No inline handlers,
// no innerHTML from untrusted strings: refreshed regions come from the server's escaped HTML.
(function () {
  "use strict";

  // Live boards: <main data-live="patient-flow"> follows /api/events/patient-flow/ and re-reads
  // the page when something changes.
  function liveBoard() {
    var main = document.querySelector("main[data-live]");
    if (!main || !window.EventSource) { return; }
    var board = main.getAttribute("data-live");
    var pending = null;
    function refresh() {
      pending = null;
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Praxi-Refresh": "1" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.querySelector("main");
          if (!fresh) { return; }
          var focused = document.activeElement && document.activeElement.id;
          main.replaceChildren.apply(main, Array.prototype.map.call(fresh.childNodes, function (node) {
            return document.importNode(node, true);
          }));
          main.setAttribute("data-refreshed", String(Date.now()));
          if (focused) {
            var again = document.getElementById(focused);
            if (again) { again.focus(); }
          }
        })
        .catch(function () { /* the next event retries */ });
    }
    var source = new EventSource("/api/events/" + board + "/");
    source.onmessage = function () {};
    source.addEventListener("error", function () { /* EventSource reconnects by itself */ });
    ["flow.created", "flow.status", "flow.updated", "flow.deleted", "operation.status", "operation.created",
     "operation.updated", "operation.deleted", "appointment.created", "appointment.updated", "appointment.deleted", "absence.created",
     "absence.updated", "absence.deleted", "break.created", "break.updated", "break.deleted"]
      .forEach(function (kind) {
        source.addEventListener(kind, function () {
          if (!pending) { pending = window.setTimeout(refresh, 150); }
        });
      });
    main.setAttribute("data-live-connected", "1");
  }

  // Forms with data-confirm ask before submitting.
  function confirmations() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var message = form && form.getAttribute && form.getAttribute("data-confirm");
      if (message && !window.confirm(message)) { event.preventDefault(); }
    });
  }

  // Elements with data-autosubmit submit their form on change (filters).
  function autosubmit() {
    document.addEventListener("change", function (event) {
      var el = event.target;
      if (el && el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) { el.form.submit(); }
    });
  }

  // Print buttons.
  function printButtons() {
    document.addEventListener("click", function (event) {
      var el = event.target;
      if (el && el.closest && el.closest("[data-print]")) { event.preventDefault(); window.print(); }
    });
  }

  // Copy buttons: data-copy="#field" copies the field's text (the field itself stays
  // selectable for browsers without the clipboard API).
  function copyButtons() {
    document.addEventListener("click", function (event) {
      var button = event.target && event.target.closest && event.target.closest("[data-copy]");
      if (!button) { return; }
      var field = document.querySelector(button.getAttribute("data-copy"));
      if (!field) { return; }
      field.focus();
      field.select();
      var done = function () {
        var label = button.getAttribute("data-copied");
        if (label) { button.textContent = label; }
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(done, function () { /* selected anyway */ });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    liveBoard();
    copyButtons();
    confirmations();
    autosubmit();
    printButtons();
  });
})();
