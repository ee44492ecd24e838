// The portal chat: keep the newest message in view after every question and every polled reply.
(function () {
  function scrollLog() {
    var log = document.getElementById("chat-log");
    if (log) { log.scrollTop = log.scrollHeight; }
  }
  document.addEventListener("DOMContentLoaded", scrollLog);
  document.body.addEventListener("htmx:afterSettle", scrollLog);
})();
