/* The field officer's offline web app (docs/design.md "Offline field work").
 *
 * - The field pack (GET /api/v1/field/pack/) and the queue of items captured offline
 *   live in IndexedDB ("field"): the pack until its expires_at, the queue until the
 *   server has confirmed each item (created, or already received).
 * - Each item gets its id on the phone (crypto.randomUUID) and is sent with that id as
 *   its Idempotency-Key: a request sent again after a lost answer is answered from the
 *   server's record of the first, never applied twice.
 * - Items are sent in the order they were captured, when the phone comes online and
 *   with the "Send now" button; refused and conflicting items stay on the phone beside
 *   the server's version until the officer decides.
 * - When the server refuses the session, the pack is deleted and the queue kept; at
 *   logout everything is deleted (the logout answer also says Clear-Site-Data).
 */
(function () {
  "use strict";

  var DB_NAME = "field";
  var PAGE_CACHE = "field-pages";
  var root = document.getElementById("field");

  // ---- IndexedDB ----------------------------------------------------------------------

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore("pack");
        db.createObjectStore("queue", { keyPath: "id" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(store, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(store, mode);
        var result;
        var request = work(tx.objectStore(store));
        if (request) { request.onsuccess = function () { result = request.result; }; }
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
        tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function queueItems() {
    return run("queue", "readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.seq - b.seq; });
    });
  }
  function putItem(item) { return run("queue", "readwrite", function (s) { return s.put(item); }); }
  function dropItem(id) { return run("queue", "readwrite", function (s) { return s.delete(id); }); }
  function readPack() { return run("pack", "readonly", function (s) { return s.get("pack"); }); }
  function writePack(pack) { return run("pack", "readwrite", function (s) { return s.put(pack, "pack"); }); }
  function dropPack() { return run("pack", "readwrite", function (s) { return s.delete("pack"); }); }

  function wipeAll() {
    var jobs = [new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
    })];
    if (window.caches) { jobs.push(caches.delete(PAGE_CACHE)); }
    return Promise.all(jobs);
  }

  // ---- words (translated in the page, read here) --------------------------------------

  var words = {};
  Array.prototype.forEach.call(document.querySelectorAll("#field-words [data-key]"), function (li) {
    words[li.getAttribute("data-key")] = li.textContent;
  });
  function say(key, values) {
    var text = words[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("%(" + name + ")s").join(String(values[name]));
    });
    return text;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) { while (node && node.firstChild) { node.removeChild(node.firstChild); } }

  // ---- logout: anything waiting would be lost: ask, then wipe ---------------------------

  Array.prototype.forEach.call(document.querySelectorAll("form[action$='/accounts/logout/']"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-wiped") === "yes") { return; }
      event.preventDefault();
      queueItems().catch(function () { return []; }).then(function (items) {
        var question = form.getAttribute("data-confirm-waiting") || "";
        if (items.length && !window.confirm(question.split("%(count)s").join(String(items.length)))) {
          return;
        }
        wipeAll().then(function () {
          form.setAttribute("data-wiped", "yes");
          form.submit();
        });
      });
    });
  });

  if (!root) { return; }

  // ---- the page's status: network, items waiting, notices -----------------------------

  function notice(text, link) {
    var box = document.getElementById("field-notice");
    clear(box);
    if (!text) { return; }
    var p = el("p", { "class": "notice" }, [text]);
    if (link) { p.appendChild(document.createTextNode(" ")); p.appendChild(link); }
    box.appendChild(p);
  }

  function showNetwork() {
    document.getElementById("field-network").textContent = navigator.onLine ? say("online") : say("offline");
  }

  function showWaiting() {
    return queueItems().then(function (items) {
      document.getElementById("field-waiting").textContent = say("waiting", { count: items.length });
      renderOutbox(items);
      return items;
    });
  }

  function fresh(pack) {
    return pack && new Date(pack.expires_at) > new Date();
  }

  function loadPack() {
    return readPack().then(function (pack) {
      if (pack && !fresh(pack)) { return dropPack().then(function () { return null; }); }
      return pack || null;
    });
  }

  function sessionRefused() {
    return dropPack().then(function () {
      var link = el("a", { href: root.getAttribute("data-login-url") }, [say("sign_in")]);
      notice(say("session_refused"), link);
      renderPack(null);
    });
  }

  function keepPages() {
    if (!window.caches) { return Promise.resolve(); }
    var pages = root.getAttribute("data-pages").split(" ");
    // One after the other: a phone on a weak signal gains nothing from parallel requests.
    return caches.open(PAGE_CACHE).then(function (cache) {
      return pages.reduce(function (chain, page) {
        return chain.then(function () {
          return fetch(page, { credentials: "same-origin" }).then(function (response) {
            if (response.ok && !response.redirected) { return cache.put(page, response); }
            return null;
          });
        });
      }, Promise.resolve());
    });
  }

  function refreshPack() {
    return fetch(root.getAttribute("data-pack-url"), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) { return sessionRefused(); }
      if (!response.ok) { throw new Error("pack " + response.status); }
      return response.json().then(function (pack) {
        return writePack(pack).then(keepPages).then(function () {
          notice(say("pack_refreshed"));
          renderPack(pack);
        });
      });
    }).catch(function () { notice(say("pack_failed")); });
  }

  // ---- the home page: pack, visits, sessions, outbox -----------------------------------

  function renderPack(pack) {
    var status = document.getElementById("field-pack-status");
    if (status) {
      status.textContent = pack
        ? say("pack_status", { issued: pack.issued_at.slice(0, 16).replace("T", " "), expires: pack.expires_at.slice(0, 10) })
        : say("no_pack");
    }
    var visits = document.getElementById("field-visits");
    if (visits) {
      clear(visits);
      var list = pack ? pack.visits : [];
      list.forEach(function (v) {
        var href = visits.getAttribute("data-visit-url") + "?visit=" + v.id;
        visits.appendChild(el("li", {}, [el("a", { href: href }, [v.business_name + " — " + v.person + " (" + say("due", { date: v.due_on }) + ")"])]));
      });
      if (!list.length) { visits.appendChild(el("li", {}, [say("no_visits")])); }
    }
    var sessions = document.getElementById("field-sessions");
    if (sessions) {
      clear(sessions);
      var count = 0;
      (pack ? pack.cohorts : []).forEach(function (c) {
        c.sessions.forEach(function (s) {
          count += 1;
          var href = sessions.getAttribute("data-attendance-url") + "?session=" + s.id;
          sessions.appendChild(el("li", {}, [el("a", { href: href }, [c.title + " — " + s.date])]));
        });
      });
      if (!count) { sessions.appendChild(el("li", {}, [say("no_sessions")])); }
    }
    fillForms(pack);
  }

  var SHOWN = {
    visit: ["visited_on", "operating", "equipment_in_use", "monthly_revenue", "jobs_owner", "jobs_family", "jobs_employees", "notes"],
    attendance: ["session", "application", "applicant", "present"],
    registration: ["first_name", "last_name", "date_of_birth", "centre", "programme", "business_name"]
  };

  function shown(value) {
    if (value === true) { return say("yes"); }
    if (value === false) { return say("no"); }
    if (value === null || value === undefined) { return "—"; }
    return String(value);
  }

  function renderOutbox(items) {
    var box = document.getElementById("field-outbox");
    if (!box) { return; }
    clear(box);
    if (!items.length) { box.appendChild(el("p", {}, [say("nothing_waiting")])); return; }
    items.forEach(function (item) {
      var state = item.state || "waiting";
      var article = el("article", { "class": "field-item", "data-testid": "item-" + state, "data-item": item.id }, [
        el("h3", {}, [say("kind_" + item.kind) + ": " + item.label]),
        el("p", {}, [say(state + "_state") + " · " + say("captured") + " " + item.captured_at.slice(0, 16).replace("T", " ")])
      ]);
      if (item.kind === "visit" && item.photos && item.photos.length) {
        article.appendChild(el("p", {}, [say("photos") + ": " + item.photos.length]));
      }
      if (item.answer) {
        article.appendChild(el("p", { "class": "error-message" }, [item.answer.detail || ""]));
        Object.keys(item.answer.errors || {}).forEach(function (name) {
          article.appendChild(el("p", { "class": "error-message" }, [name + ": " + item.answer.errors[name].join(" ")]));
        });
      }
      if (state === "conflict" && item.answer && item.answer.record) {
        var server = item.answer.record;
        var rows = SHOWN[item.kind].map(function (name) {
          return el("tr", {}, [
            el("th", { scope: "row" }, [name]),
            el("td", { "data-label": say("phone_copy") }, [shown(item.data[name])]),
            el("td", { "data-label": say("server_copy"), "data-testid": "server-" + name }, [shown(server[name])])
          ]);
        });
        rows.push(el("tr", {}, [el("th", { scope: "row" }, [say("recorded_by")]), el("td", {}, [""]), el("td", { "data-label": say("server_copy") }, [shown(server.recorded_by)])]));
        article.appendChild(el("table", { "class": "cards", "data-testid": "compare" }, [
          el("thead", {}, [el("tr", {}, [el("th", { scope: "col" }, [say("field_name")]), el("th", { scope: "col" }, [say("phone_copy")]), el("th", { scope: "col" }, [say("server_copy")])])]),
          el("tbody", {}, rows)
        ]));
      }
      if (state !== "waiting") {
        var actions = el("div", { "class": "actions" });
        var discard = el("button", { type: "button", "class": "secondary", "data-testid": "discard" }, [say("discard")]);
        discard.addEventListener("click", function () { dropItem(item.id).then(showWaiting); });
        actions.appendChild(discard);
        var again = el("button", { type: "button", "data-testid": "resend" }, [say(state === "conflict" ? "resend" : "resend_new")]);
        again.addEventListener("click", function () { resend(item).then(showWaiting).then(sync); });
        actions.appendChild(again);
        article.appendChild(actions);
      }
      box.appendChild(article);
    });
  }

  function resend(item) {
    // A new item (a new id, so a new Idempotency-Key) that says which server version
    // the officer saw: the server then takes it as a correction, nothing silently.
    var copy = JSON.parse(JSON.stringify(item.data));
    var server = item.answer && item.answer.record;
    if (item.state === "conflict" && server) {
      if (item.kind === "visit") { copy.known_recorded_at = server.recorded_at; }
      if (item.kind === "attendance") { copy.known_present = server.present; }
    }
    var again = {
      id: crypto.randomUUID(), seq: item.seq, kind: item.kind, user: item.user, label: item.label,
      captured_at: item.captured_at, data: copy, photos: item.photos || [], state: "waiting"
    };
    return putItem(again).then(function () { return dropItem(item.id); });
  }

  // ---- sync ---------------------------------------------------------------------------

  var syncing = null;

  function sync() {
    if (syncing) { return syncing; }
    if (!navigator.onLine) { return Promise.resolve(); }
    syncing = fetch(root.getAttribute("data-session-url"), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) { return sessionRefused(); }
      if (!response.ok) { return null; }
      return response.json().then(function (session) {
        return queueItems().then(function (items) { return sendAll(session, items); });
      });
    }).catch(function () { return null; }).then(function () {
      syncing = null;
      return showWaiting();
    });
    return syncing;
  }

  function sendAll(session, items) {
    var sent = 0;
    var someoneElse = false;
    var chain = Promise.resolve(true);
    items.forEach(function (item) {
      chain = chain.then(function (goOn) {
        if (!goOn) { return false; }
        if ((item.state || "waiting") !== "waiting") { return true; }
        if (item.user !== session.user) { someoneElse = true; return true; }
        return send(item, session.csrf_token).then(function (result) {
          if (result === "confirmed") { sent += 1; }
          return result !== "stop";
        });
      });
    });
    return chain.then(function () {
      if (someoneElse) { notice(say("other_user")); } else if (sent) { notice(say("sent", { count: sent })); }
    });
  }

  function requestFor(item, csrf) {
    var headers = { "Idempotency-Key": item.id, "X-CSRFToken": csrf, Accept: "application/json" };
    var body = { id: item.id, kind: item.kind, captured_at: item.captured_at };
    body[item.kind] = item.data;
    if (item.photos && item.photos.length) {
      var form = new FormData();
      form.append("item", JSON.stringify(body));
      item.photos.forEach(function (photo) { form.append("photos", photo.blob, photo.name); });
      return { method: "POST", credentials: "same-origin", headers: headers, body: form };
    }
    headers["Content-Type"] = "application/json";
    return { method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(body) };
  }

  function send(item, csrf) {
    return fetch(root.getAttribute("data-sync-url"), requestFor(item, csrf)).then(function (response) {
      if (response.status === 401) { return sessionRefused().then(function () { return "stop"; }); }
      if (response.status >= 500) { return "stop"; }
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (answer.outcome === "created" || answer.outcome === "already_received") {
          return dropItem(item.id).then(function () { return "confirmed"; });
        }
        if (response.status === 403 && !answer.outcome) {
          return sessionRefused().then(function () { return "stop"; });
        }
        item.state = answer.outcome === "conflict" ? "conflict" : "refused";
        item.answer = { detail: answer.detail || "", errors: answer.errors || fieldErrors(answer), record: answer.record || null };
        return putItem(item).then(function () { return "kept"; });
      });
    }, function () { return "stop"; });
  }

  function fieldErrors(answer) {
    var out = {};
    Object.keys(answer || {}).forEach(function (key) {
      if (key !== "detail" && key !== "code" && Array.isArray(answer[key])) { out[key] = answer[key].map(String); }
    });
    return out;
  }

  // ---- capture ------------------------------------------------------------------------

  function option(select, value, label, selected) {
    var node = el("option", { value: String(value) }, [label]);
    if (selected) { node.selected = true; }
    select.appendChild(node);
  }

  function param(name) { return new URLSearchParams(window.location.search).get(name); }

  function today() {
    var d = new Date();
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  var currentPack = null;

  function fillForms(pack) {
    currentPack = pack;
    var visit = document.getElementById("f-visit");
    if (visit) {
      clear(visit);
      (pack ? pack.visits : []).forEach(function (v) {
        option(visit, v.id, v.business_name + " — " + v.person + " (" + say("due", { date: v.due_on }) + ")", String(v.id) === param("visit"));
      });
      var day = document.getElementById("f-visited-on");
      if (!day.value) { day.value = today(); }
    }
    var session = document.getElementById("f-session");
    if (session) {
      clear(session);
      (pack ? pack.cohorts : []).forEach(function (c) {
        c.sessions.forEach(function (s) { option(session, s.id, c.title + " — " + s.date, String(s.id) === param("session")); });
      });
      session.onchange = function () { fillPeople(pack); };
      fillPeople(pack);
    }
    var centre = document.getElementById("f-centre");
    if (centre) {
      clear(centre);
      (pack ? pack.centres : []).forEach(function (c) { option(centre, c.id, c.name); });
      var sex = document.getElementById("f-sex");
      var programme = document.getElementById("f-programme");
      var sector = document.getElementById("f-sector");
      [sex, programme, sector].forEach(function (s) { while (s.options.length > 1) { s.remove(1); } });
      (pack ? pack.sexes : []).forEach(function (c) { option(sex, c.value, c.label); });
      (pack ? pack.programmes : []).forEach(function (p) { option(programme, p.id, p.name); });
      (pack ? pack.sectors : []).forEach(function (c) { option(sector, c.value, c.label); });
      var groups = document.getElementById("f-groups");
      Array.prototype.forEach.call(groups.querySelectorAll("p"), function (p) { p.remove(); });
      (pack ? pack.target_groups : []).forEach(function (g) {
        var id = "f-group-" + g.value;
        groups.appendChild(el("p", {}, [el("input", { type: "checkbox", id: id, name: "target_groups", value: g.value }), " ", el("label", { "for": id }, [g.label])]));
      });
    }
  }

  function cohortOf(pack, sessionId) {
    var found = null;
    (pack ? pack.cohorts : []).forEach(function (c) {
      c.sessions.forEach(function (s) { if (String(s.id) === String(sessionId)) { found = c; } });
    });
    return found;
  }

  // The people on a session's sheet: those enrolled through an application and those
  // enrolled directly (training as a service of its own), each with the key their mark
  // names ("application" or "applicant") and their mark in the pack, if any.
  function sheetOf(cohort, sessionId) {
    function row(person, key, marks) {
      var mark = (marks || []).filter(function (m) { return String(m.session) === String(sessionId) && m[key] === person[key]; })[0];
      return { key: key, id: person[key], name: person.name, mark: mark || null, input: (key === "applicant" ? "f-present-person-" : "f-present-") + person[key] };
    }
    return cohort.people.map(function (p) { return row(p, "application", cohort.marks); }).concat(
      (cohort.direct_people || []).map(function (p) { return row(p, "applicant", cohort.direct_marks); })
    );
  }

  function fillPeople(pack) {
    var box = document.getElementById("f-people");
    clear(box);
    var sessionId = document.getElementById("f-session").value;
    var cohort = cohortOf(pack, sessionId);
    if (!cohort) { return; }
    sheetOf(cohort, sessionId).forEach(function (person) {
      var box2 = el("input", { type: "checkbox", id: person.input, name: "present", value: String(person.id), "data-person": person.key });
      if (person.mark && person.mark.present) { box2.checked = true; }
      box.appendChild(el("p", {}, [box2, " ", el("label", { "for": person.input }, [person.name])]));
    });
  }

  function showErrors(problems) {
    var box = document.getElementById("field-errors");
    clear(box);
    if (!problems.length) { return; }
    var summary = el("div", { "class": "error-summary", role: "alert", tabindex: "-1", "data-testid": "error-summary" }, [
      el("h2", {}, [say("problem")]),
      el("ul", {}, problems.map(function (p) { return el("li", {}, [el("a", { href: "#" + p.id }, [p.text])]); }))
    ]);
    box.appendChild(summary);
    summary.focus();
  }

  function labelOf(input) {
    var label = document.querySelector("label[for='" + input.id + "']");
    return label ? label.textContent.trim() : input.name;
  }

  function missing(form) {
    var problems = [];
    Array.prototype.forEach.call(form.querySelectorAll("[required]"), function (input) {
      var empty = input.type === "checkbox" ? !input.checked : !String(input.value || "").trim();
      if (empty) { problems.push({ id: input.id, text: say("required", { field: labelOf(input) }) }); }
    });
    var groups = form.querySelector("#f-groups");
    if (groups && !groups.querySelector("input:checked")) {
      var first = groups.querySelector("input");
      problems.push({ id: first ? first.id : "f-groups", text: say("required", { field: groups.getAttribute("data-required-label") }) });
    }
    return problems;
  }

  function newItem(kind, label, data, photos) {
    return {
      id: crypto.randomUUID(), seq: Date.now() + Math.random(), kind: kind, label: label,
      user: currentPack ? currentPack.user.id : Number(root.getAttribute("data-user")),
      captured_at: new Date().toISOString(), data: data, photos: photos || [], state: "waiting"
    };
  }

  // The person's language by default: Albanian in Kosovo and Albania, else Serbian.
  function centreOf(form) { return Number(form.querySelector("#f-centre").value); }
  function languageOf(centreId) {
    var centre = (currentPack ? currentPack.centres : []).filter(function (c) { return c.id === centreId; })[0];
    return centre && (centre.country === "XK" || centre.country === "AL") ? "sq" : "sr-latn";
  }

  function whole(value) { var n = parseInt(value, 10); return isNaN(n) ? 0 : n; }

  function itemsOf(form) {
    var kind = form.getAttribute("data-kind");
    if (kind === "visit") {
      var select = form.querySelector("#f-visit");
      var revenue = form.querySelector("#f-revenue").value.trim().replace(",", ".");
      var files = Array.prototype.slice.call(form.querySelector("#f-photos").files || []);
      var photos = files.map(function (f) { return { name: f.name, blob: f.slice(0, f.size, f.type) }; });
      return [newItem("visit", select.options[select.selectedIndex].text, {
        visit: Number(select.value),
        visited_on: form.querySelector("#f-visited-on").value,
        operating: form.querySelector("#f-operating").checked,
        equipment_in_use: form.querySelector("#f-equipment").checked,
        monthly_revenue: revenue || null,
        jobs_owner: whole(form.querySelector("#f-jobs-owner").value),
        jobs_family: whole(form.querySelector("#f-jobs-family").value),
        jobs_employees: whole(form.querySelector("#f-jobs-employees").value),
        notes: form.querySelector("#f-notes").value,
        known_recorded_at: null
      }, photos)];
    }
    if (kind === "attendance") {
      var session = form.querySelector("#f-session");
      var cohort = cohortOf(currentPack, session.value);
      return (cohort ? sheetOf(cohort, session.value) : []).map(function (person) {
        var data = { session: Number(session.value) };
        data[person.key] = person.id;
        data.present = form.querySelector("#" + person.input).checked;
        data.known_present = person.mark ? person.mark.present : null;
        return newItem("attendance", session.options[session.selectedIndex].text + " — " + person.name, data);
      });
    }
    var checked = function (name) {
      return Array.prototype.map.call(form.querySelectorAll("input[name='" + name + "']:checked"), function (i) { return i.value; });
    };
    var data = {
      centre: Number(form.querySelector("#f-centre").value),
      first_name: form.querySelector("#f-first-name").value.trim(),
      last_name: form.querySelector("#f-last-name").value.trim(),
      date_of_birth: form.querySelector("#f-birth").value,
      sex: form.querySelector("#f-sex").value,
      phone: form.querySelector("#f-phone").value.trim(),
      municipality: form.querySelector("#f-municipality").value.trim(),
      household_size: whole(form.querySelector("#f-household").value) || 1,
      target_groups: checked("target_groups"),
      consent_on_paper: form.querySelector("#f-consent").checked,
      special_consents: checked("special_consents"),
      language: languageOf(centreOf(form))
    };
    var programme = form.querySelector("#f-programme").value;
    if (programme) {
      data.programme = Number(programme);
      data.business_name = form.querySelector("#f-business").value.trim();
      data.sector = form.querySelector("#f-sector").value;
    }
    return [newItem("registration", data.first_name + " " + data.last_name, data)];
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-kind]"), function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var problems = missing(form);
      showErrors(problems);
      if (problems.length) { return; }
      var items = itemsOf(form);
      items.reduce(function (chain, item) {
        return chain.then(function () { return putItem(item); });
      }, Promise.resolve()).then(function () {
        form.reset();
        fillForms(currentPack);
        notice(say("saved"));
        return showWaiting();
      }).then(sync);
    });
  });

  // ---- start --------------------------------------------------------------------------

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { return null; });
  }
  var refresh = document.getElementById("field-refresh");
  if (refresh) { refresh.addEventListener("click", refreshPack); }
  var syncButton = document.getElementById("field-sync");
  if (syncButton) { syncButton.addEventListener("click", sync); }
  window.addEventListener("online", function () { showNetwork(); sync(); });
  window.addEventListener("offline", showNetwork);
  showNetwork();
  loadPack().then(function (pack) {
    renderPack(pack);
    root.setAttribute("data-ready", "yes");
    return showWaiting();
  }).then(function (items) {
    if (items.length) { return sync(); }
    return null;
  });
}());
