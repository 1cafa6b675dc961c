/* Small enhancements; every page works without them.
 * - Rows (equipment items, session dates): "Add a row" clones the form's empty row
 *   instead of reloading the page; a ticked "remove" box hides its row.
 * - Equipment: the total is recalculated as you type and compared with the ceiling.
 * - Attendance sheet: "all present" ticks a session's column.
 * - Tables shown as cards on a phone (class "cards"): each cell without a data-label
 *   gets its column's header as one, so every value is shown with its name.
 * - After a failed submit the error summary takes the focus, so the page shows it and a
 *   screen reader reads it (the summary is first in <main>; autofocus does it too).
 * - Disclosures marked data-open-wide (the workflow diagram) start open on wide screens;
 *   on a phone they stay folded.
 */
(function () {
  "use strict";

  function number(value) {
    var n = parseFloat(String(value || "").replace(",", "."));
    return isNaN(n) ? 0 : n;
  }

  function formatter() {
    var lang = document.documentElement.lang || "en";
    try {
      return new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    } catch (e) {
      return new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
  }

  function updateTotal(form) {
    var output = form.querySelector("[data-total]");
    if (!output) { return; }
    var total = 0;
    form.querySelectorAll("[data-row]").forEach(function (row) {
      var removed = row.querySelector("input[name$='-DELETE']");
      if (removed && removed.checked) { return; }
      var qty = row.querySelector("input[name$='-quantity']");
      var cost = row.querySelector("input[name$='-unit_cost']");
      if (qty && cost) { total += number(qty.value) * number(cost.value); }
    });
    output.textContent = formatter().format(total);
    var ceiling = number(output.getAttribute("data-ceiling"));
    var over = form.querySelector("[data-over]");
    if (over) { over.hidden = !(ceiling > 0 && total > ceiling + 0.0001); }
  }

  function addRow(button) {
    var prefix = button.getAttribute("data-add-row");
    var form = button.form;
    var rows = form.querySelector("[data-rows='" + prefix + "']");
    var template = document.getElementById(prefix + "-template");
    var totalInput = form.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var maxInput = form.querySelector("input[name='" + prefix + "-MAX_NUM_FORMS']");
    if (!rows || !template || !totalInput) { return false; }
    var index = parseInt(totalInput.value, 10) || 0;
    if (maxInput && index >= (parseInt(maxInput.value, 10) || 1000)) { return true; }
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    rows.appendChild(row);
    totalInput.value = String(index + 1);
    var first = row.querySelector("input:not([type=hidden]), select, textarea");
    if (first) { first.focus(); }
    return true;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-row]");
    if (button && addRow(button)) {
      event.preventDefault();
      return;
    }
    var all = event.target.closest("[data-check-column]");
    if (all) {
      event.preventDefault();
      var column = all.getAttribute("data-check-column");
      document.querySelectorAll("input[data-column='" + column + "']").forEach(function (box) {
        box.checked = true;
      });
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("input[name$='-DELETE']")) {
      var row = target.closest("[data-row]");
      if (row) { row.classList.toggle("removed", target.checked); }
    }
    var form = target.form;
    if (form && form.hasAttribute("data-items-form")) { updateTotal(form); }
  });

  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-items-form")) { updateTotal(form); }
  });

  function text(node) {
    return node ? node.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function labelCells(table) {
    var head = table.tHead;
    if (!head || !head.rows.length) { return; }
    var labels = [];
    Array.prototype.forEach.call(head.rows[head.rows.length - 1].cells, function (th) {
      var label = text(th);
      // A header that only names the column for screen readers ("Action") labels nothing.
      if (label === text(th.querySelector(".sr-only"))) { label = ""; }
      for (var i = 0; i < (th.colSpan || 1); i++) { labels.push(label); }
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var label = labels[column];
          if (cell.tagName === "TD" && label && cell.colSpan === 1 && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", label);
          }
          column += cell.colSpan || 1;
        });
      });
    });
  }

  document.querySelectorAll("table.cards").forEach(labelCells);
  document.querySelectorAll("form[data-items-form]").forEach(updateTotal);
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
    summary.scrollIntoView({ block: "start" });
  }
  if (window.matchMedia && window.matchMedia("(min-width: 48em)").matches) {
    document.querySelectorAll("details[data-open-wide]").forEach(function (details) { details.open = true; });
  }
  document.documentElement.classList.add("js");
})();
