/* MarketRed embed v1 — vanilla JS, no cookies, one global: window.MarketRed.
 * <div data-marketred-search></div>                 search box + results
 * <div data-marketred-catalog="vendor-slug"></div>   a company's catalog
 * <script src="https://marketred.cl/embed/v1/marketred.js" async></script>
 * Optional on the script tag: data-marketplace="https://..." (defaults to the script's origin).
 * Style it with CSS variables on the container: --mr-accent, --mr-text, --mr-muted,
 * --mr-border, --mr-radius, --mr-font, --mr-bg, --mr-columns-min.
 */
(function () {
  "use strict";
  if (window.MarketRed && window.MarketRed.version) return;
  var script = document.currentScript;
  var base = ((script && script.getAttribute("data-marketplace")) ||
    (script ? new URL(script.src, location.href).origin : location.origin)).replace(/\/$/, "");
  var CSS =
    ":where(.mr-embed){--mr-accent:#c62828;--mr-text:inherit;--mr-muted:#666;--mr-border:#ddd;" +
    "--mr-radius:8px;--mr-font:inherit;--mr-bg:transparent;--mr-columns-min:12rem;" +
    "font-family:var(--mr-font);color:var(--mr-text);background:var(--mr-bg)}" +
    ":where(.mr-embed) .mr-form{display:flex;gap:.5rem;margin:0 0 .75rem}" +
    ":where(.mr-embed) .mr-input{flex:1;padding:.5rem;border:1px solid var(--mr-border);" +
    "border-radius:var(--mr-radius);font:inherit}" +
    ":where(.mr-embed) .mr-button{padding:.5rem 1rem;border:0;border-radius:var(--mr-radius);" +
    "background:var(--mr-accent);color:#fff;font:inherit;cursor:pointer}" +
    ":where(.mr-embed) .mr-list{list-style:none;margin:0;padding:0;display:grid;gap:.5rem;" +
    "grid-template-columns:repeat(auto-fill,minmax(var(--mr-columns-min),1fr))}" +
    ":where(.mr-embed) .mr-item a{display:block;height:100%;box-sizing:border-box;padding:.75rem;" +
    "border:1px solid var(--mr-border);border-radius:var(--mr-radius);color:inherit;" +
    "text-decoration:none}" +
    ":where(.mr-embed) .mr-item img{width:100%;height:8rem;object-fit:cover;" +
    "border-radius:var(--mr-radius)}" +
    ":where(.mr-embed) .mr-name{display:block;font-weight:600}" +
    ":where(.mr-embed) .mr-featured{display:inline-block;font-size:.75em;font-weight:600;" +
    "padding:0 .4em;border-radius:var(--mr-radius);background:var(--mr-accent);color:#fff}" +
    ":where(.mr-embed) .mr-price{display:block;color:var(--mr-accent)}" +
    ":where(.mr-embed) .mr-vendor,:where(.mr-embed) .mr-status{display:block;color:var(--mr-muted);" +
    "font-size:.875em}";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = String(text);
    return node;
  }

  function clp(n) {
    return "$" + Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }

  function priceRange(p) {
    var lo = p.price_min != null ? p.price_min : p.min_price;
    var hi = p.price_max != null ? p.price_max : p.max_price;
    var prices = (p.variants || []).map(function (v) { return v.price; }).filter(function (x) {
      return typeof x === "number";
    });
    if (prices.length) { lo = Math.min.apply(null, prices); hi = Math.max.apply(null, prices); }
    if (lo == null) return "";
    return hi == null || lo === hi ? clp(lo) : "desde " + clp(lo);
  }

  function safeUrl(u) {
    try {
      var url = new URL(u, base);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) { return null; }
  }

  function productUrl(p) {
    return (p.url && safeUrl(p.url)) || base + "/productos/" + encodeURIComponent(p.id);
  }

  function vendorName(p) {
    var v = p.vendor;
    return p.vendor_name || (v && typeof v === "object" ? v.name || v.slug : v) || "";
  }

  function renderList(target, items, emptyText) {
    target.textContent = "";
    if (!items.length) { target.appendChild(el("p", "mr-status", emptyText)); return; }
    var list = el("ul", "mr-list");
    items.forEach(function (p) {
      var li = el("li", "mr-item");
      var a = el("a");
      a.href = productUrl(p);
      a.target = "_top";
      a.rel = "noopener";
      var img = p.image_url || (p.image_urls && p.image_urls[0]);
      if (img && safeUrl(img)) {
        var i = el("img"); i.src = safeUrl(img); i.alt = ""; i.loading = "lazy"; a.appendChild(i);
      }
      if (p.featured) a.appendChild(el("span", "mr-featured", "Destacado"));
      a.appendChild(el("span", "mr-name", p.name));
      a.appendChild(el("span", "mr-price", priceRange(p)));
      var vn = vendorName(p);
      if (vn) a.appendChild(el("span", "mr-vendor", vn));
      li.appendChild(a);
      list.appendChild(li);
    });
    target.appendChild(list);
  }

  function getJSON(path) {
    return fetch(base + path, {
      credentials: "omit", mode: "cors", headers: { Accept: "application/json" }
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (body) { return Array.isArray(body) ? body : body.items || []; });
  }

  function fail(target) {
    target.textContent = "";
    target.appendChild(el("p", "mr-status", "No pudimos cargar los productos. Intenta más tarde."));
  }

  function mountCatalog(node) {
    var slug = node.getAttribute("data-marketred-catalog");
    if (!slug) return;
    node.classList.add("mr-embed");
    var out = el("div", "mr-results");
    out.appendChild(el("p", "mr-status", "Cargando…"));
    node.textContent = "";
    node.appendChild(out);
    getJSON("/api/v1/vendors/" + encodeURIComponent(slug) + "/products?limit=60").then(
      function (items) { renderList(out, items, "Esta empresa aún no tiene productos."); },
      function () { fail(out); }
    );
  }

  function mountSearch(node) {
    node.classList.add("mr-embed");
    node.textContent = "";
    var form = el("form", "mr-form");
    form.setAttribute("role", "search");
    var input = el("input", "mr-input");
    input.type = "search";
    input.name = "q";
    input.placeholder = node.getAttribute("data-placeholder") || "Buscar productos…";
    input.setAttribute("aria-label", input.placeholder);
    input.value = node.getAttribute("data-marketred-search") || "";
    var button = el("button", "mr-button", "Buscar");
    button.type = "submit";
    form.appendChild(input);
    form.appendChild(button);
    var out = el("div", "mr-results");
    out.setAttribute("aria-live", "polite");
    node.appendChild(form);
    node.appendChild(out);
    var seq = 0;
    function run() {
      var q = input.value.trim();
      if (!q) { out.textContent = ""; return; }
      var mine = ++seq;
      out.textContent = "";
      out.appendChild(el("p", "mr-status", "Buscando…"));
      getJSON("/api/v1/products/search?limit=20&featured_first=true&q=" + encodeURIComponent(q)).then(
        function (items) { if (mine === seq) renderList(out, items, "Sin resultados para «" + q + "»."); },
        function () { if (mine === seq) fail(out); }
      );
    }
    form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
    if (input.value) run();
  }

  // The marketplace's theme (set by its operators or pushed by the directory), as the
  // widget's defaults: same zero specificity as the built-in ones and later, so it wins
  // over them, while any rule of the host page on the container still wins over both.
  function applyTheme() {
    if (document.getElementById("marketred-embed-theme")) return;
    var holder = el("style");
    holder.id = "marketred-embed-theme";
    (document.head || document.documentElement).appendChild(holder);
    fetch(base + "/api/v1/theme", { credentials: "omit", mode: "cors" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (t) {
      if (!t || !/^#[0-9a-f]{6}$/i.test(t.primary) || !/^[A-Za-z0-9 ,"'_-]{1,200}$/.test(t.font_stack)) return;
      holder.textContent = ":where(.mr-embed){--mr-accent:" + t.primary + ";--mr-radius:" +
        Math.max(0, Math.min(24, parseInt(t.radius_px, 10) || 0)) + "px;--mr-font:" + t.font_stack + "}";
    }, function () {});
  }

  function mount(root) {
    root = root || document;
    if (!document.getElementById("marketred-embed-style")) {
      var style = el("style");
      style.id = "marketred-embed-style";
      style.textContent = CSS;
      (document.head || document.documentElement).appendChild(style);
    }
    applyTheme();
    Array.prototype.forEach.call(root.querySelectorAll("[data-marketred-catalog]"), mountCatalog);
    Array.prototype.forEach.call(root.querySelectorAll("[data-marketred-search]"), mountSearch);
  }

  window.MarketRed = { version: "1", base: base, mount: mount };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { mount(); });
  } else {
    mount();
  }
})();
