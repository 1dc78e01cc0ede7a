// A live exercise session: the server sends the live panel and the team chat as server-sent
// events (api/live.py); this swaps them in. The page loads again when play starts or ends, so
// the questions asked before and after appear.
(function () {
  "use strict";
  function start() {
    var live = document.getElementById("live");
    if (!live || !window.EventSource) { return; }
    var phase = live.getAttribute("data-phase");
    var home = live.getAttribute("data-page");
    // A page that answers a form (a cast, saved answers) stands at the session's own address, so
    // loading it again never sends the form twice.
    if (window.location.pathname !== home) { window.history.replaceState(null, "", home); }
    var log = document.getElementById("chat-log");
    var source = new EventSource(live.getAttribute("data-live"));
    source.addEventListener("screen", function (event) {
      live.innerHTML = event.data;
      var now = live.querySelector("[data-phase]");
      if (now && now.getAttribute("data-phase") !== phase) {
        source.close();
        window.location.replace(home);
        return;
      }
      if (window.htmx) { window.htmx.process(live); }
      document.body.setAttribute("data-live-seen", String(Date.now()));
    });
    source.addEventListener("chat", function (event) {
      log.innerHTML = event.data;
      log.scrollTop = log.scrollHeight;
    });
    source.addEventListener("said", function (event) {
      log.insertAdjacentHTML("beforeend", event.data);
      log.scrollTop = log.scrollHeight;
    });
    var chat = document.getElementById("chat-form");
    if (chat) {
      chat.addEventListener("htmx:afterRequest", function (event) {
        if (event.detail.successful && !document.querySelector("#problem .problem")) {
          chat.reset();
        }
      });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
