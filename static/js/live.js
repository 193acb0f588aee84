// A live list (an element with data-live and an htmx polling trigger) does not poll while its tab
// is hidden: the request is cancelled before it is sent; the next one after the tab is shown
// brings what happened meanwhile (the poller asks for everything after the newest row shown).
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (document.hidden && elt && elt.hasAttribute && elt.hasAttribute("data-live")) {
      event.preventDefault();
    }
  });
})();
