// The Live page's room and alerts, pushed by /live/stream. Names, notes and alert texts come from
// upstream or the owner: they are only ever set with textContent, never as HTML.
(function () {
  "use strict";
  var body = document.getElementById("room-rows");
  var template = document.getElementById("room-row-template");
  if (!body || !template || !window.EventSource) return;
  var csrf = (document.getElementById("live-csrf") || {}).value || "";

  function text(el, value) { if (el) el.textContent = value == null ? "" : String(value); }
  function clock(iso) {
    var d = new Date(iso);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: document.body.dataset.tz });
  }

  function row(person) {
    var tr = template.content.firstElementChild.cloneNode(true);
    tr.dataset.username = person.username;
    var img = tr.querySelector("img");
    img.src = person.image_url;
    img.alt = person.has_image ? "Photo of " + person.display_name : person.role + " placeholder";
    var link = tr.querySelector("a");
    link.href = "/people/" + encodeURIComponent(person.username);
    text(link, person.display_name);
    var badges = tr.querySelector(".badges");
    (person.badges || []).forEach(function (b) {
      var span = document.createElement("span");
      span.className = "pbadge pbadge-" + b.key.replace(/[^a-z0-9_-]/gi, "");
      span.dataset.badge = b.key;
      text(span, b.label);
      badges.appendChild(span);
    });
    text(tr.querySelector(".note-body"), person.latest_note);
    var cells = tr.querySelectorAll("td");
    var stats = person.stats || { lifetime_tokens: 0, visits: 0 };
    text(cells[2], stats.lifetime_tokens.toLocaleString("en"));
    text(cells[3], stats.visits);
    text(cells[4], clock(person.entered_at));
    return tr;
  }

  function alertItem(hit) {
    var li = document.createElement("li");
    li.dataset.alert = hit.id;
    var span = document.createElement("span");
    text(span, hit.message);
    var form = document.createElement("form");
    form.method = "post";
    form.action = "/live/alerts/" + encodeURIComponent(hit.id) + "/ack";
    var token = document.createElement("input");
    token.type = "hidden"; token.name = "csrf_token"; token.value = csrf;
    var button = document.createElement("button");
    button.className = "button small"; button.type = "submit"; text(button, "Acknowledge");
    form.appendChild(token); form.appendChild(button);
    li.appendChild(span); li.appendChild(form);
    return li;
  }

  function apply(room) {
    var state = document.querySelector("[data-room-state]");
    text(state, room.live ? "Live now" : "You're offline");
    if (state) state.className = "live-state " + (room.live ? "on" : "off");
    text(document.querySelector("[data-room-count]"), room.people.length);
    var empty = document.querySelector("[data-room-empty]");
    if (empty) empty.hidden = room.people.length > 0;
    body.replaceChildren.apply(body, room.people.map(row));
    var line = document.querySelector("[data-session-line]");
    if (line) {
      line.replaceChildren();
      if (room.session) {
        var link = document.createElement("a");
        link.href = "/sessions/" + encodeURIComponent(room.session.id);
        text(link, "Session");
        var tokens = document.createElement("span");
        tokens.className = "tokens";
        text(tokens, room.session.tokens.toLocaleString("en") + " tokens");
        line.append(link, " since " + clock(room.session.started_at) + " · ", tokens,
                    " · net followers " + room.session.net_followers);
      }
    }
    var list = document.querySelector("[data-alerts]");
    if (list) list.replaceChildren.apply(list, room.alerts.map(alertItem));
  }

  var indicator = document.querySelector("[data-room-connection]");
  var source = new EventSource("/live/stream");
  source.addEventListener("open", function () { text(indicator, "Connected"); if (indicator) indicator.classList.add("connected"); });
  source.addEventListener("error", function () { text(indicator, "Reconnecting…"); if (indicator) indicator.classList.remove("connected"); });
  source.addEventListener("room", function (message) { apply(JSON.parse(message.data)); });
})();
