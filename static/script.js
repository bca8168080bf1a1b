// Pulse: one pageview per page load and per single-page-app navigation. It keeps
// nothing in the browser and identifies nobody.
(function (w, d) {
  "use strict";
  var s = d.currentScript;
  if (!s) return;
  var api = new URL(s.src).origin + "/api/event";
  var domain = s.getAttribute("data-domain");
  var last;
  function send() {
    var url = w.location.href;
    if (url === last) return;
    var body = JSON.stringify({ domain: domain, url: url, referrer: last || d.referrer || null });
    last = url;
    if (navigator.sendBeacon && navigator.sendBeacon(api, body)) return;
    fetch(api, { method: "POST", body: body, keepalive: true, credentials: "omit",
      headers: { "Content-Type": "text/plain" } }).catch(function () {});
  }
  function wrap(name) {
    var orig = w.history[name];
    w.history[name] = function () {
      var r = orig.apply(this, arguments);
      send();
      return r;
    };
  }
  wrap("pushState");
  wrap("replaceState");
  w.addEventListener("popstate", send);
  send();
})(window, document);
