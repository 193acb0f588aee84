// The message region at the top of every page (base.html): the one way an
// action is confirmed.
//
// * The server's notify() (portal/web.py) answers an htmx request with
//   HX-Trigger: {"notify": {"message": "...", "kind": "success" | "info" | "error"}}.
//   This shows the message there, visible and dismissable, where screen
//   readers hear it: success and info inside the polite role="status" region
//   (#messages-status, present from the start so that additions are read),
//   an error as a role="alert" of its own.
// * A plain form's message was flashed by the same notify() and rendered in
//   the same place by base.html on the next page; its Dismiss button waits
//   for this script (without JavaScript it could do nothing).
// * A new message replaces those shown. An htmx answer with an error status
//   (a 422 form, a 404) clears them first, so an earlier "saved" is not read
//   as its answer; an error fragment (portal/errors.py) then lands in
//   #messages itself.
//
// No inline script or style anywhere: the CSP forbids both.
(function () {
  "use strict";

  var KINDS = ["success", "info", "error"];

  function clear() {
    var region = document.getElementById("messages");
    if (!region) { return; }
    // querySelectorAll does not look inside <template>, so the template stays.
    region.querySelectorAll(".message").forEach(function (box) { box.remove(); });
  }

  function show(text, kind) {
    var region = document.getElementById("messages");
    var status = document.getElementById("messages-status");
    var template = document.getElementById("message-template");
    if (!region || !status || !template || !text) { return; }
    if (KINDS.indexOf(kind) === -1) { kind = "info"; }
    clear();
    var box = template.content.firstElementChild.cloneNode(true);
    box.classList.remove("message--success");
    box.classList.add("message--" + kind);
    box.querySelector(".message__text").textContent = text;
    box.querySelectorAll("[data-dismiss-message]").forEach(function (button) { button.hidden = false; });
    if (kind === "error") {
      box.setAttribute("role", "alert");  // set before it is added: an alert is read when it appears
      region.appendChild(box);
    } else {
      status.appendChild(box);            // the live region already exists, so the addition is read
    }
  }

  function dismiss(box) {
    var hadFocus = box.contains(document.activeElement);
    box.remove();
    if (hadFocus) {  // not back to the top of the page: on to the content
      var next = document.querySelector("#messages [data-dismiss-message]:not([hidden])");
      var main = document.getElementById("main");
      if (next) { next.focus(); } else if (main) { main.focus({ preventScroll: true }); }
    }
  }

  document.addEventListener("notify", function (evt) {
    var detail = evt.detail || {};
    show(detail.message, detail.kind);
  });

  document.addEventListener("htmx:beforeOnLoad", function (evt) {
    var xhr = evt.detail && evt.detail.xhr;
    if (xhr && xhr.status >= 400) { clear(); }
  });

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-dismiss-message]");
    var box = button && button.closest(".message");
    if (box) { dismiss(box); }
  });

  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Escape" || !evt.target.closest) { return; }
    var box = evt.target.closest("#messages .message");
    if (box) { dismiss(box); }
  });

  function start() {
    document.querySelectorAll("#messages [data-dismiss-message][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
