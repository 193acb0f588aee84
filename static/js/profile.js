// The profile form's live character counter: under a textarea that has
// data-counter-min and data-counter-max (the bio), "N of MAX characters",
// counted as the server counts them (characters, not UTF-16 units; a line
// break is one). Screen readers hear a short message only when the count
// crosses a limit, not at every key. Delegated from the document, so it keeps
// working after htmx swaps the form. Without JavaScript the hint states the
// rule and the server checks it.
(function () {
  "use strict";

  function count(text) {
    return Array.from(text.replace(/\r\n?/g, "\n")).length;
  }

  function state(n, min, max) {
    if (n === 0) { return "empty"; }
    if (n < min) { return "short"; }
    if (n > max) { return "long"; }
    return "ok";
  }

  function update(area) {
    var min = parseInt(area.getAttribute("data-counter-min"), 10) || 0;
    var max = parseInt(area.getAttribute("data-counter-max"), 10) || 0;
    var output = document.querySelector('[data-counter-for="' + area.id + '"]');
    var status = document.querySelector('[data-counter-status="' + area.id + '"]');
    if (!output) { return; }
    var n = count(area.value);
    var now = state(n, min, max);
    var text = n + " of " + max + " characters";
    if (now === "short") { text += " (" + (min - n) + " more needed)"; }
    if (now === "long") { text += " (" + (n - max) + " too many)"; }
    if (now === "empty") { text += " (at least " + min + ")"; }
    output.textContent = text;
    output.classList.toggle("counter--bad", now === "short" || now === "long");
    if (status && area.getAttribute("data-counter-state") !== now) {
      area.setAttribute("data-counter-state", now);
      if (now === "ok") { status.textContent = "The bio is long enough."; }
      if (now === "long") { status.textContent = "The bio is longer than " + max + " characters."; }
    }
  }

  function updateAll(root) {
    (root || document).querySelectorAll("textarea[data-counter-max]").forEach(update);
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches("textarea[data-counter-max]")) { update(event.target); }
  });
  document.addEventListener("DOMContentLoaded", function () { updateAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) { updateAll(event.target.parentNode || document); });
})();
