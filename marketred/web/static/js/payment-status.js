// Payment return page: ask the server every few seconds whether the payment is verified
// and reload when the quote status changes. Without JS a <meta refresh> does the same.
(function () {
  "use strict";
  var box = document.querySelector("[data-payment-status-url]");
  if (!box) { return; }
  var url = box.getAttribute("data-payment-status-url");
  var initial = box.getAttribute("data-status");
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.status && data.status !== initial) { window.location.reload(); }
        else { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 4000); });
  }
  window.setTimeout(poll, 2000);
})();
