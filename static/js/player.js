// The lesson player, on top of htmx.
//
// * Video lessons report the watch position (whole seconds) to the lesson's
//   watch URL every 15 s while playing, and on pause, on ended and when the
//   page is hidden. fetch() POST with the CSRF header from <body hx-headers>;
//   the server keeps the furthest position (capped at the lesson's length),
//   so a repeated or late report changes nothing. A video opens where the
//   student stopped last time.
// * A video lesson's "Mark complete" (form[data-after-watching]) waits until
//   the student has watched: the furthest position (the recorded watch time
//   included) reaches 80% of the video's length once the length is known, or
//   the video fires "ended". Should the video not play here at all ("error"),
//   the button comes back: the student may have watched it through the link.
//   A nudge against a stray click, not a lock: without JavaScript, or for a
//   video this page cannot play, the button is always there, and the server
//   does not refuse (see learning.routes.complete).
// * The certificate page's Print button (hidden without JavaScript, where the
//   browser's own print command does the same).
// * After htmx swaps the player (Mark complete, a quiz submission), the focus
//   goes to the new lesson's title and the page scrolls to the top.
//
// No inline script or style anywhere: the CSP forbids both.
(function () {
  "use strict";

  var EVERY_MS = 15000;
  var WATCHED = 0.8;   // share of the video's length that counts as watched

  function csrfHeaders() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    } catch (e) {
      return {};
    }
  }

  function report(video, keepalive) {
    var position = Math.floor(video.currentTime || 0);
    if (!(position > (video._reported || 0))) { return; }
    video._reported = position;
    var body = new URLSearchParams();
    body.set("position", String(position));
    var headers = csrfHeaders();
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    fetch(video.getAttribute("data-watch-url"), {
      method: "POST", body: body, headers: headers, credentials: "same-origin", keepalive: !!keepalive
    }).catch(function () { video._reported = 0; });  // offline: the next report tries again
  }

  // Hold the lesson's Mark complete back until the video is watched (see the top).
  function holdCompletion(video) {
    var lesson = video.closest(".lesson-view") || document;
    var form = lesson.querySelector("form[data-after-watching]");
    if (!form) { return; }
    var note = lesson.querySelector("[data-watch-note]");
    var furthest = video._reported;
    function release(message) {
      if (!form.hidden) { return; }
      form.hidden = false;
      if (note) { note.textContent = message; }
    }
    function check() {
      furthest = Math.max(furthest, video.currentTime || 0);
      if (isFinite(video.duration) && video.duration > 0 && furthest >= WATCHED * video.duration) {
        release("You have watched the video: you can mark it complete.");
      }
    }
    form.hidden = true;
    if (note) { note.hidden = false; }
    video.addEventListener("loadedmetadata", check);
    video.addEventListener("timeupdate", check);
    video.addEventListener("ended", function () { release("You have watched the video: you can mark it complete."); });
    video.addEventListener("error", function () {
      release("The video does not play here. If you have watched it elsewhere, you can mark it complete.");
    });
    if (video.error) {
      release("The video does not play here. If you have watched it elsewhere, you can mark it complete.");
    } else if (video.readyState >= 1) {
      check();   // the length was known before this ran
    }
  }

  function wire(video) {
    if (video._wired) { return; }
    video._wired = true;
    video._reported = parseInt(video.getAttribute("data-resume-at") || "0", 10) || 0;
    holdCompletion(video);
    var timer = null;
    function stop() { if (timer) { window.clearInterval(timer); timer = null; } }
    video.addEventListener("loadedmetadata", function () {
      var at = video._reported;
      if (at > 0 && isFinite(video.duration) && at < video.duration - 3) { video.currentTime = at; }
    });
    video.addEventListener("play", function () {
      stop();
      timer = window.setInterval(function () { report(video); }, EVERY_MS);
    });
    video.addEventListener("pause", function () { stop(); report(video); });
    video.addEventListener("ended", function () { stop(); report(video); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && document.contains(video)) { report(video, true); }
    });
  }

  function wireAll(root) {
    (root || document).querySelectorAll("video[data-watch-url]").forEach(wire);
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireAll(document);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  });
  document.addEventListener("htmx:load", function (evt) { wireAll(evt.target); });
  // The player element is replaced by each swap (outerHTML): a new one means
  // a new lesson (or a graded quiz) is on screen.
  var shownPlayer = null;
  document.addEventListener("DOMContentLoaded", function () { shownPlayer = document.getElementById("player"); });
  document.addEventListener("htmx:afterSettle", function () {
    var player = document.getElementById("player");
    if (!player || player === shownPlayer) { return; }
    shownPlayer = player;
    var result = document.getElementById("quiz-result");
    var title = document.getElementById("lesson-title");
    window.scrollTo(0, 0);
    if (result) { result.setAttribute("tabindex", "-1"); result.focus(); }
    else if (title) { title.focus(); }
  });
})();
