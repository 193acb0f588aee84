// The course form's repeatable inputs ("What students will learn", "Who this
// course is for"): add a row by cloning the list's <template>, remove a row,
// keep the labels numbered, move focus sensibly and say what happened in a
// polite live region. Delegated from the document, so it keeps working after
// htmx swaps the form. Without JavaScript the form still posts: the list shows
// one empty row, and an emptied item is dropped on save.
(function () {
  "use strict";
  document.documentElement.classList.add("has-js");

  function parts(box) {
    return {
      list: box.querySelector("[data-items-list]"),
      template: box.querySelector("template[data-items-template]"),
      add: box.querySelector("[data-items-add]"),
      status: box.querySelector("[data-items-status]"),
      max: parseInt(box.getAttribute("data-max"), 10) || 20,
      label: (box.querySelector("legend") || {}).textContent || "Item"
    };
  }

  function refresh(box) {
    var p = parts(box);
    var rows = p.list.querySelectorAll(".items__row");
    rows.forEach(function (row, index) {
      var number = index + 1;
      var input = row.querySelector("input");
      var hidden = row.querySelector(".items__remove .visually-hidden");
      if (input) { input.setAttribute("aria-label", p.label.trim() + ": item " + number); }
      if (hidden) { hidden.textContent = " item " + number; }
    });
    if (p.add) { p.add.disabled = rows.length >= p.max; }
  }

  function say(box, message) {
    var p = parts(box);
    if (p.status) { p.status.textContent = message; }
  }

  function addRow(box) {
    var p = parts(box);
    if (!p.template || p.list.querySelectorAll(".items__row").length >= p.max) { return; }
    var row = p.template.content.firstElementChild.cloneNode(true);
    p.list.appendChild(row);
    refresh(box);
    var input = row.querySelector("input");
    if (input) { input.focus(); }
    say(box, "Item " + p.list.querySelectorAll(".items__row").length + " added.");
  }

  function removeRow(box, row) {
    var p = parts(box);
    var next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    refresh(box);
    var target = next ? next.querySelector("input") : p.add;
    if (target) { target.focus(); }
    say(box, "Item removed.");
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-items-add]");
    var remove = event.target.closest("[data-items-remove]");
    var box = event.target.closest("[data-items]");
    if (!box) { return; }
    if (add) { event.preventDefault(); addRow(box); }
    if (remove) { event.preventDefault(); removeRow(box, remove.closest(".items__row")); }
  });

  // Enter in an item adds the next one rather than submitting the whole form.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !event.target.matches("[data-items-input]")) { return; }
    var box = event.target.closest("[data-items]");
    if (!box) { return; }
    event.preventDefault();
    addRow(box);
  });

  function refreshAll(root) {
    (root || document).querySelectorAll("[data-items]").forEach(refresh);
  }
  document.addEventListener("DOMContentLoaded", function () { refreshAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) { refreshAll(event.target.parentNode || document); });
})();
