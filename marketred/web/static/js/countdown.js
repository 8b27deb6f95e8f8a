// Live countdowns: every <time class="countdown" datetime="..."> shows the time left,
// refreshed each second. Without JS the server-rendered text stays (progressive enhancement).
(function () {
  "use strict";
  var lang = document.documentElement.lang || "es";
  var words = lang.indexOf("en") === 0
    ? { d: "d", h: "h", m: "min", s: "s", left: "left" }
    : { d: "d", h: "h", m: "min", s: "s", left: "quedan" };

  function render(el) {
    var end = Date.parse(el.getAttribute("datetime"));
    if (isNaN(end)) { return; }
    var secs = Math.floor((end - Date.now()) / 1000);
    if (secs <= 0) {
      el.textContent = el.getAttribute("data-expired") || "—";
      el.classList.add("expired");
      return;
    }
    var d = Math.floor(secs / 86400), h = Math.floor(secs % 86400 / 3600);
    var m = Math.floor(secs % 3600 / 60), s = secs % 60;
    var parts = d ? [d + " " + words.d, h + " " + words.h, m + " " + words.m]
      : h ? [h + " " + words.h, m + " " + words.m, s + " " + words.s]
      : [m + " " + words.m, s + " " + words.s];
    el.textContent = lang.indexOf("en") === 0
      ? parts.join(" ") + " " + words.left
      : words.left + " " + parts.join(" ");
  }

  function tick() {
    var all = document.querySelectorAll("time.countdown");
    for (var i = 0; i < all.length; i++) { render(all[i]); }
  }
  tick();
  window.setInterval(tick, 1000);
})();
