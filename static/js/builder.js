// The curriculum builder and drip release pages, on top of htmx.
//
// * Drag and drop with SortableJS (from npm): modules within the course,
//   lessons within and across modules (one shared group). A drop POSTs the
//   move (``to=<index>``, and ``module=<id>`` for lessons) with the CSRF
//   header from <body hx-headers>, and the server's list replaces ours. If
//   the server refuses, the outline is reloaded so the page shows the truth.
// * Focus: after a swap the focus stays where the person was working: on
//   the moved item's move button (or its "Move to…" link), on the new form's
//   field, on the Edit link after saving, on the next (or previous) item's
//   title after deleting, or on "Add a module" when none is left.
// * Messages ("saved", "moved"...) are not this script's: the server's
//   notify() and static/js/notify.js show them at the top of the page.
// * Forms show only the fields of the chosen lesson type / drip rule kind
//   (without JavaScript, everything shows and each section says what it is for).
//
// No inline script or style anywhere: the CSP forbids both.
(function () {
  "use strict";

  function csrfHeaders() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    } catch (e) {
      return {};
    }
  }

  // --- show the fields of the chosen type -----------------------------------------
  function showChosen(scope, selectSelector, attribute) {
    var select = scope.querySelector(selectSelector);
    if (!select) { return; }
    scope.querySelectorAll("[" + attribute + "]").forEach(function (section) {
      var kinds = section.getAttribute(attribute).split(/\s+/);
      section.hidden = kinds.indexOf(select.value) === -1;
    });
  }

  function wireChoices(root) {
    root.querySelectorAll("[data-lesson-types]").forEach(function (form) {
      showChosen(form, "[data-lesson-type]", "data-for-types");
    });
    root.querySelectorAll("[data-drip-rule]").forEach(function (fieldset) {
      showChosen(fieldset, "[data-drip-kind]", "data-for-kinds");
    });
  }

  document.addEventListener("change", function (evt) {
    var target = evt.target;
    if (target.matches("[data-lesson-type]")) {
      showChosen(target.closest("[data-lesson-types]"), "[data-lesson-type]", "data-for-types");
    } else if (target.matches("[data-drip-kind]")) {
      showChosen(target.closest("[data-drip-rule]"), "[data-drip-kind]", "data-for-kinds");
    }
  });

  // --- drag and drop --------------------------------------------------------------
  function refreshOutline() {
    var outline = document.getElementById("outline");
    if (!outline || !window.htmx) { return; }
    window.htmx.ajax("GET", outline.getAttribute("data-refresh-url"), { target: "#outline", swap: "outerHTML" });
  }

  function postMove(url, values) {
    window.htmx.ajax("POST", url, {
      target: "#modules", swap: "outerHTML", values: values, headers: csrfHeaders()
    });
  }

  function wireSortables(root) {
    if (!window.Sortable) { return; }
    var lists = [];
    if (root.matches && root.matches("[data-sortable]")) { lists.push(root); }
    root.querySelectorAll("[data-sortable]").forEach(function (list) { lists.push(list); });
    lists.forEach(function (list) {
      if (window.Sortable.get(list)) { return; }
      if (list.getAttribute("data-sortable") === "modules") {
        window.Sortable.create(list, {
          handle: ".module__handle", draggable: ".module", animation: 150,
          onEnd: function (evt) {
            if (evt.oldIndex === evt.newIndex) { return; }
            postMove(evt.item.getAttribute("data-move-url"), { to: evt.newIndex });
          }
        });
      } else {
        window.Sortable.create(list, {
          group: "lessons", handle: ".lesson__handle", draggable: ".lesson", animation: 150,
          onEnd: function (evt) {
            if (evt.from === evt.to && evt.oldIndex === evt.newIndex) { return; }
            postMove(evt.item.getAttribute("data-move-url"),
                     { module: evt.to.getAttribute("data-module-id"), to: evt.newIndex });
          }
        });
      }
    });
  }

  document.body.addEventListener("htmx:responseError", function (evt) {
    var path = (evt.detail.pathInfo && evt.detail.pathInfo.requestPath) || "";
    if (/\/move$/.test(path)) { refreshOutline(); }
  });

  // --- focus ------------------------------------------------------------------------
  function visible(el) {
    return el && el.offsetParent !== null && window.getComputedStyle(el).visibility !== "hidden";
  }

  function focusMoved(list) {
    var item = document.getElementById(list.getAttribute("data-moved"));
    var by = list.getAttribute("data-moved-by");
    if (!item || !by) { return; }
    var scope = item.classList.contains("module") ? item.querySelector(".module__head") : item;
    var preferred = scope.querySelector(by === "to" ? ".mover__to" : by === "up" ? ".mover__up" : ".mover__down");
    var other = scope.querySelector(by === "up" ? ".mover__down" : ".mover__up");
    var target = visible(preferred) ? preferred : visible(other) ? other
      : scope.querySelector("[tabindex='-1']");
    if (target) { target.focus(); }
  }

  var pending = null;

  function focusLost() {
    var active = document.activeElement;
    return !active || active === document.body || !document.body.contains(active);
  }

  function focusOn(target) {
    if (!target) { return; }
    if (!target.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) {
      target.setAttribute("tabindex", "-1");
    }
    target.focus();
  }

  // What takes the focus once ``item`` (a module or lesson) is deleted: the next
  // item's title, else the previous one's; for the last lesson its module's
  // title, for the last module the "Add a module" form's first field.
  function afterDeleting(item) {
    var lesson = item.classList.contains("lesson");
    var siblings = lesson ? "li.lesson" : "li.module";
    var title = lesson ? ".lesson__title" : ".module__title";
    var near = [item.nextElementSibling, item.previousElementSibling];
    for (var i = 0; i < near.length; i++) {
      if (near[i] && near[i].matches(siblings)) {
        var found = near[i].querySelector(title) || near[i].querySelector("input, select, textarea, a, button");
        if (found) { return found; }
      }
    }
    if (lesson) {
      var module = item.closest("li.module");
      return module && module.querySelector(".module__title");
    }
    return document.querySelector("#module-add input:not([type=hidden])");
  }

  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (!elt || !elt.closest) { pending = null; return; }
    var anchor = elt.closest(".module__head[id], li[id], form[id], section[id]");
    var item = elt.closest("li.lesson, li.module");
    var deleting = item && /\/delete$/.test(elt.getAttribute("hx-post") || "");
    var neighbour = null;
    if (!deleting && item) {  // where to go should the anchor be gone
      var next = item.nextElementSibling || item.previousElementSibling;
      neighbour = (next && next.querySelector("[id$='-title']")) || (item.classList.contains("lesson")
        ? item.closest("li.module").querySelector(".module__title") : null);
    }
    pending = { anchor: anchor && anchor.id, prefer: elt.getAttribute("data-focus-after"),
                deleted: deleting ? afterDeleting(item) : null, neighbour: neighbour };
  });

  // A deleted item's swap removes the element htmx fires its swap and settle events
  // on, so they never reach the body; htmx fires afterRequest again on the nearest
  // ancestor still in the page, after the swap.
  document.body.addEventListener("htmx:afterRequest", function (evt) {
    if (!pending || !pending.deleted || !evt.detail.successful) { return; }
    var target = pending.deleted;
    pending = null;
    if (focusLost() && document.body.contains(target)) { focusOn(target); }
  });

  document.body.addEventListener("htmx:afterSettle", function () {
    if (!pending || pending.deleted || !focusLost()) { pending = null; return; }
    var anchor = pending.anchor && document.getElementById(pending.anchor);
    var target = null;
    if (anchor) {
      target = (pending.prefer && anchor.querySelector(pending.prefer)) || anchor.querySelector("[autofocus]")
        || anchor.querySelector("[data-focus-here]")
        || anchor.querySelector("input:not([type=hidden]):not([type=radio]), select, textarea");
    }
    if (!target && pending.neighbour && document.body.contains(pending.neighbour)) { target = pending.neighbour; }
    if (!target) { target = document.getElementById("curriculum-title"); }
    pending = null;
    focusOn(target);
  });

  // --- no inline styles to settle --------------------------------------------------
  // htmx "settles" the style attribute of an element that keeps its id across a
  // swap, by copying it with setAttribute, which the CSP refuses (and logs). The
  // old elements carry style attributes we never wrote: the browser's autofill
  // leaves style="" on inputs, SortableJS leaves transforms after a drag. They
  // are about to be replaced, so drop them first. (Settling only class would be
  // the global fix: htmx.config.attributesToSettle in base.html.)
  function dropInlineStyles(evt) {
    var target = evt.detail && evt.detail.target;
    if (!target) { return; }
    var scope = target.parentElement || target;
    if (scope.hasAttribute("style")) { scope.removeAttribute("style"); }
    scope.querySelectorAll("[style]").forEach(function (el) { el.removeAttribute("style"); });
  }
  document.body.addEventListener("htmx:beforeSwap", dropInlineStyles);
  document.body.addEventListener("htmx:oobBeforeSwap", dropInlineStyles);

  // --- on every piece of new content (and the page itself) ----------------------------
  function onLoad(root) {
    wireChoices(root);
    wireSortables(root);
    if (root.id === "modules" && root.hasAttribute("data-moved")) { focusMoved(root); }
  }

  function start() {
    if (window.htmx) {
      window.htmx.onLoad(onLoad);  // also runs once for the page
    } else {
      onLoad(document.body);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
