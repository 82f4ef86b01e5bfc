/*
 * evalkit HTML report, part 1 of 4: the page's data, DOM helpers, number formatting, colours and boot().
 * The page's one inline script is report.js, tables.js, charts.js and samples.js joined inside one
 * strict-mode function scope, then a call of boot() (evalkit/report/html.py, page_script); so these
 * files share their functions and variables, and none of them runs anything by itself.
 *
 * Security: everything in the JSON block (model names, predictions, dataset text) is untrusted.
 * This script never parses data as HTML: nodes are made with createElement / createElementNS,
 * text goes in with textContent (createTextNode), attributes with setAttribute, and an image
 * source is set only when it matches IMAGE_RE. No innerHTML, no eval, no inline event handlers.
 */

// The SVG namespace, derived from the page's own XHTML namespace so that this file holds no
// absolute URL at all (the report must not reference anything on the network).
var SVGNS = document.documentElement.namespaceURI.replace("1999/xhtml", "2000/svg");
var IMAGE_RE = /^data:image\/(png|jpeg);base64,[A-Za-z0-9+\/=]+$/;
var RUN_COLOURS = ["#e0a800", "#d9480f", "#7b2cbf", "#0b7a75", "#c2255c", "#2b8a3e"];
var REF_COLOURS = ["#2f5fd0", "#1c7ed6", "#5c940d", "#868e96", "#ae3ec9", "#f08c00"];
var D = JSON.parse(document.getElementById("report-data").textContent);

/* ---------- DOM helpers ---------- */

function append(node, children) {
  if (children === null || children === undefined) return node;
  if (!Array.isArray(children)) children = [children];
  children.forEach(function (child) {
    if (child === null || child === undefined) return;
    if (typeof child === "string" || typeof child === "number") {
      node.appendChild(document.createTextNode(String(child)));
    } else {
      node.appendChild(child);
    }
  });
  return node;
}

function setAttrs(node, attrs) {
  Object.keys(attrs || {}).forEach(function (name) {
    var value = attrs[name];
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
  });
  return node;
}

function el(tag, attrs, children) {
  return append(setAttrs(document.createElement(tag), attrs), children);
}

function sv(tag, attrs, children) {
  return append(setAttrs(document.createElementNS(SVGNS, tag), attrs), children);
}

function host(id) {
  var node = document.getElementById(id);
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

function fmt(value, decimals) {
  if (value === null || value === undefined || typeof value !== "number" || !isFinite(value)) return "\u2013";
  return value.toFixed(decimals === undefined ? 1 : decimals);
}

function signed(value, decimals) {
  var text = fmt(value, decimals);
  return typeof value === "number" && value > 0 ? "+" + text : text;
}

function shorten(text, limit) {
  return text.length > limit ? text.slice(0, limit - 1) + "\u2026" : text;
}

// A header label as text pieces with <wbr> break chances inside CamelCase and after hyphens
// of long labels ("Hallusion|Bench", "MMBench-|EN"), so that Table 2 fits the page width.
function breakable(label) {
  if (String(label).length < 10 || /\s/.test(label)) return [String(label)];  // short, or spaces break it
  var pieces = String(label).split(/(?<=[a-z]-?)(?=[A-Z])|(?<=-)/);
  var out = [];
  pieces.forEach(function (piece, i) {
    if (i) out.push(el("wbr"));
    out.push(piece);
  });
  return out;
}

function columnByKey(key) {
  for (var i = 0; i < D.columns.length; i++) if (D.columns[i].key === key) return D.columns[i];
  return { key: key, label: key, sub: "", decimals: 1, higher_is_better: true };
}

function value(row, key) {
  var v = row.values[key];
  return typeof v === "number" && isFinite(v) ? v : null;
}

function better(column, a, b) {
  return column.higher_is_better === false ? a < b : a > b;
}

/* ---------- colours: runs first, then the plotted references ---------- */

var colourOf = {};
(function assignColours() {
  var runs = 0;
  var refs = 0;
  D.rows.forEach(function (row) {
    if (row.kind === "run") colourOf[row.name] = RUN_COLOURS[runs++ % RUN_COLOURS.length];
  });
  D.radar.models.forEach(function (name) {
    if (!(name in colourOf)) colourOf[name] = REF_COLOURS[refs++ % REF_COLOURS.length];
  });
})();

// A plain table: headers [{label, text}], rows of cells [{text, cls, title}]; rowAttrs(i), if given, gives
// the attributes of row i's <tr>.
function simpleTable(id, headers, rows, rowAttrs) {
  var table = el("table", { id: id });
  append(table, el("thead", null, el("tr", null, headers.map(function (h) {
    return el("th", { class: h.text ? "text" : null, scope: "col" }, h.label);
  }))));
  var body = el("tbody");
  rows.forEach(function (cells, r) {
    body.appendChild(el("tr", rowAttrs ? rowAttrs(r) : null, cells.map(function (cell, i) {
      return el("td", { class: [headers[i].text ? "text" : "", cell.cls || ""].join(" ").trim() || null,
        title: cell.title || null }, cell.text);
    })));
  });
  table.appendChild(body);
  return el("div", { class: "scroll" }, table);
}

/* ---------- boot ---------- */

function boot() {
  document.title = D.title;
  document.getElementById("report-title").textContent = D.title;
  document.getElementById("report-subtitle").textContent = D.subtitle;
  [renderScores, renderLeaderboard, renderRadar, renderBars, renderGaps, renderNotCompared,
    renderSamples].forEach(function (step) {
    try {
      step();
    } catch (error) {
      document.body.setAttribute("data-error", String(error));
      var banner = el("p", { class: "error-banner" }, "Part of this report could not be drawn: " + String(error));
      document.querySelector("main").insertBefore(banner, document.querySelector("main").firstChild);
    }
  });
  document.body.setAttribute("data-ready", "1");
}
