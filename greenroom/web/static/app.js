// Greenroom's only script: keyboard shortcuts, relative times, and live updates by Server-Sent
// Events. Upstream text (names, chat) is only ever set with textContent, never as HTML.
(function () {
  "use strict";

  // "/" focuses the search box unless the user is typing somewhere already.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var search = document.getElementById("global-search");
    if (search) { event.preventDefault(); search.focus(); }
  });

  // The room switcher works as a plain form; with script on, picking a room is enough.
  var switcher = document.querySelector("[data-room-switcher]");
  if (switcher) {
    var go = switcher.querySelector(".room-switch-go");
    if (go) go.hidden = true;
    switcher.querySelector("select").addEventListener("change", function () { switcher.submit(); });
  }

  function fill(root, field, text) {
    var el = root.querySelector('[data-field="' + field + '"]');
    if (el) el.textContent = text;
    return el;
  }

  function addEvent(table, data) {
    var template = document.getElementById("event-row-template");
    var body = document.getElementById("event-rows");
    if (!template || !body) return;
    if (body.querySelector('tr[data-pk="' + data.pk + '"]')) return;  // already shown
    var row = template.content.firstElementChild.cloneNode(true);
    row.dataset.pk = String(data.pk);
    row.classList.add("is-new");
    var time = fill(row, "time", data.time);
    time.setAttribute("datetime", data.time_iso);
    time.setAttribute("title", data.time_title);
    var chip = fill(row, "label", data.label);
    chip.className = "chip chip-" + data.chip;
    var user = fill(row, "username", data.username);
    if (data.username) user.setAttribute("href", "/people/" + encodeURIComponent(data.username.toLowerCase()));
    fill(row, "detail", data.detail);
    body.insertBefore(row, body.firstChild);
    var keep = parseInt(table.dataset.keep || "50", 10);
    while (body.rows.length > keep) body.deleteRow(body.rows.length - 1);
    var empty = document.querySelector("[data-empty]");
    if (empty) empty.hidden = true;
  }

  function applyStatus(data) {
    Object.keys(data).forEach(function (key) {
      document.querySelectorAll('[data-status="' + key + '"]').forEach(function (el) {
        var value = data[key];
        if (typeof value === "boolean") return;
        el.textContent = value === "" && key === "error" ? "none" : String(value);
        if (data[key + "_title"] !== undefined) el.setAttribute("title", data[key + "_title"]);
        if (key === "banner") el.hidden = !value;
        if (key === "error") el.classList.toggle("error-text", value !== "");
      });
    });
  }

  var table = document.querySelector("table[data-stream]");
  if (table && window.EventSource) {
    var indicator = document.querySelector("[data-live-indicator]");
    var source = new EventSource(table.dataset.stream);
    source.addEventListener("open", function () {
      if (indicator) { indicator.textContent = "Live"; indicator.classList.add("connected"); }
    });
    source.addEventListener("error", function () {
      if (indicator) { indicator.textContent = "Reconnecting…"; indicator.classList.remove("connected"); }
    });
    source.addEventListener("event", function (message) { addEvent(table, JSON.parse(message.data)); });
    source.addEventListener("status", function (message) { applyStatus(JSON.parse(message.data)); });
  }
})();
