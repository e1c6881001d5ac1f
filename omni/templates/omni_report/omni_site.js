/* omni report pages: sort, filter and search large tables offline. Written for omni (Apache-2.0
   with the rest of the package); no library, no network, no eval. The page's Content-Security-Policy
   allows this one script by its SHA-256 (omni.core.markup.CSP): editing it changes the hash, which
   the package computes again when it is imported. Tables with more than LARGE body rows get a
   search box and sortable headers; smaller tables stay plain. */
(function () {
  "use strict";
  var LARGE = 15;
  var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});

  // "1,234", "12.3%", "-0.5", "1.2e-05", "¥3,400", "3.4 s" -> a number; "–" and text -> NaN
  function number(text) {
    var t = text.replace(/[,\s\u00a0]/g, "").replace(/^[¥$€£]/, "");
    var m = /^([-+\u2212]?\d*\.?\d+(?:e[-+]?\d+)?)(%|[a-z]*)$/i.exec(t);
    if (!m) { return NaN; }
    var v = parseFloat(m[1].replace("\u2212", "-"));
    return m[2] === "%" ? v / 100 : v;
  }

  function cellText(row, col) {
    var cell = row.cells[col];
    return cell ? cell.textContent.trim() : "";
  }

  function compare(a, b) {
    var x = number(a), y = number(b);
    var xn = !isNaN(x), yn = !isNaN(y);
    if (xn && yn) { return x - y; }
    if (xn !== yn) { return xn ? -1 : 1; }  // numbers before text and blanks
    return collator.compare(a, b);
  }

  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", dir);
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (r, i) { return {row: r, key: cellText(r, col), i: i}; });
    keyed.sort(function (a, b) {
      var c = compare(a.key, b.key);
      return (dir === "ascending" ? c : -c) || a.i - b.i;  // stable
    });
    keyed.forEach(function (k) { body.appendChild(k.row); });
  }

  function filter(table, input, count) {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var rows = table.tBodies[0].rows, shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var text = rows[i].textContent.toLowerCase();
      var hit = words.every(function (w) { return text.indexOf(w) >= 0; });
      rows[i].hidden = !hit;
      if (hit) { shown++; }
    }
    count.textContent = words.length ? shown + " of " + rows.length + " rows" : rows.length + " rows";
  }

  function enhance(table) {
    if (!table.tHead || !table.tBodies.length || table.tBodies[0].rows.length <= LARGE) { return; }
    table.classList.add("omni-sortable");
    var heads = table.tHead.rows[table.tHead.rows.length - 1].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.tabIndex = 0;
      th.title = "sort by this column";
      th.addEventListener("click", function () { sortBy(table, col, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, col, th); }
      });
    });
    var bar = document.createElement("div");
    bar.className = "omni-filter";
    var input = document.createElement("input");
    input.type = "search";
    input.placeholder = "filter rows";
    input.setAttribute("aria-label", "filter the rows of this table");
    var count = document.createElement("span");
    bar.appendChild(input);
    bar.appendChild(count);
    table.parentNode.insertBefore(bar, table);
    input.addEventListener("input", function () { filter(table, input, count); });
    filter(table, input, count);
  }

  function tocFollows() {
    var links = document.querySelectorAll(".omni-toc a[href^='#']");
    if (!links.length || !("IntersectionObserver" in window)) { return; }
    var byId = {};
    Array.prototype.forEach.call(links, function (a) { byId[decodeURIComponent(a.hash.slice(1))] = a; });
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting && byId[e.target.id]) {
          Array.prototype.forEach.call(links, function (a) { a.classList.remove("omni-here"); });
          byId[e.target.id].classList.add("omni-here");
        }
      });
    }, {rootMargin: "0px 0px -70% 0px"});
    Object.keys(byId).forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { seen.observe(el); }
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("main table"), enhance);
    tocFollows();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
