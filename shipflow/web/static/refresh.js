// The tracking page reloads itself when its parcel has news: it asks the page's signed status
// URL with the version it shows (If-None-Match); 304 means nothing new. Polls only while the
// tab is visible; no third-party code, no inline script (CSP).
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !window.fetch) return;
  var url = me.getAttribute("data-url");
  var shown = me.getAttribute("data-etag");
  var every = Number(me.getAttribute("data-every")) * 1000 || 60000;
  function later(ms) { window.setTimeout(poll, ms); }
  function poll() {
    if (document.hidden) return later(every);
    fetch(url, { headers: { "If-None-Match": shown }, credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        var etag = answer.headers.get("ETag");
        if (answer.status === 200 && etag && etag !== shown) return window.location.reload();
        later(every);
      }, function () { later(every * 2); });
  }
  later(every);
})();
