/*
 * evalkit HTML report, part 4 of 4: the sample browser.
 *
 * Every scored sample is in the data, stored compactly (evalkit/report/payload.py): per (run, suite)
 * group one array per field, texts as numbers into D.strings, images as numbers into D.images.
 * A sample is decoded only when its row is drawn, and only one page of rows is in the DOM at a time,
 * so a 10,000-sample suite stays quick to filter, sort and page through.
 */

/* ---------- 4. sample browser ---------- */

var SAMPLE_PAGE = 100;  // rows per page
var lowered = [];  // D.strings lower-cased, filled as the filter needs them

function status(score) {
  if (typeof score !== "number") return "unscored";
  return score >= 1 - 1e-9 ? "correct" : "incorrect";
}

function readHash() {
  var params = new URLSearchParams(location.hash.replace(/^#/, ""));
  return {
    filter: params.get("filter") || "",
    status: params.get("status") || "all",
    sort: params.get("sort") || "index",
    page: Math.max(1, parseInt(params.get("page"), 10) || 1),
    run: params.get("run"),
    suite: params.get("suite")
  };
}

function stringAt(id) {
  return typeof id === "number" && id >= 0 && id < D.strings.length ? String(D.strings[id]) : null;
}

// A text field's string numbers: one number (single turn), a list (multi-turn) or null (none).
function stringIds(value) {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function turnTexts(value) {
  return stringIds(value).map(function (id) { return stringAt(id) || ""; });
}

function imageAt(id) {
  var url = typeof id === "number" && id >= 0 && id < D.images.length ? D.images[id] : null;
  return typeof url === "string" && IMAGE_RE.test(url) ? url : null;
}

// Sample i of group g, decoded from the group's columns.
function sampleAt(g, i) {
  return { index: String(g.index[i]), instruction: turnTexts(g.instruction[i]), prediction: turnTexts(g.prediction[i]),
    extracted: stringAt(g.extracted[i]), answer: stringAt(g.answer[i]), score: g.score[i], image: imageAt(g.image[i]) };
}

function mentions(value, needle) {
  return stringIds(value).some(function (id) {
    if (stringAt(id) === null) return false;
    if (lowered[id] === undefined) lowered[id] = D.strings[id].toLowerCase();
    return lowered[id].indexOf(needle) >= 0;
  });
}

// The positions of group g's samples that pass the filters, in the chosen order.
function selectSamples(g, needle, wanted, sort) {
  var positions = [];
  for (var i = 0; i < g.count; i++) {
    if (wanted !== "all" && status(g.score[i]) !== wanted) continue;
    if (needle && !mentions(g.instruction[i], needle) && !mentions(g.prediction[i], needle)) continue;
    positions.push(i);
  }
  if (sort === "index") return positions;
  var dir = sort === "score-asc" ? 1 : -1;
  return positions.sort(function (a, b) {
    var va = typeof g.score[a] === "number" ? g.score[a] : null;
    var vb = typeof g.score[b] === "number" ? g.score[b] : null;
    if (va === null || vb === null) return (va === null) - (vb === null) || a - b;
    return dir * (va - vb) || a - b;
  });
}

function turns(label, values) {
  if (values.length === 1) return el("div", { class: "turn" }, values[0]);
  return values.map(function (text, i) {
    return el("div", { class: "turn" }, [el("span", { class: "turn-label" }, label + " " + (i + 1)), text]);
  });
}

function sampleRow(s, withImages) {
  var image = null;
  if (s.image !== null) {
    image = el("img", { class: "thumb", alt: "sample " + s.index, loading: "lazy" });
    image.setAttribute("src", s.image);
  }
  var answer = s.answer === null ? null : el("span", { class: "answer" }, "answer: " + s.answer);
  return el("tr", { class: "sample " + status(s.score), "data-index": s.index }, [
    el("td", { class: "index", title: s.index }, s.index),
    withImages ? el("td", { class: "image" }, image) : null,
    el("td", { class: "instruction" }, turns("turn", s.instruction)),
    el("td", { class: "prediction" }, turns("turn", s.prediction)),
    el("td", { class: "extracted" }, [s.extracted === null ? "\u2013" : s.extracted, answer]),
    el("td", { class: "score" }, typeof s.score === "number" ? fmt(s.score, 2) : "not scored")]);
}

function sampleTable(g, positions) {
  var withImages = g.image.some(function (id) { return imageAt(id) !== null; });
  var columns = [["index", "#"], ["image", "Image"], ["instruction", "Prompt"], ["prediction", "Prediction"],
    ["extracted", "Extracted / answer"], ["score", "Score"]].filter(function (c) {
    return withImages || c[0] !== "image";
  });
  var table = el("table", { class: "samples", id: "sample-table", "data-run": g.run, "data-suite": g.suite });
  append(table, [
    el("colgroup", null, columns.map(function (c) { return el("col", { class: "c-" + c[0] }); })),
    el("thead", null, el("tr", null, columns.map(function (c) {
      return el("th", { class: "text", scope: "col" }, c[1]);
    })))]);
  var body = el("tbody");
  positions.forEach(function (i) { body.appendChild(sampleRow(sampleAt(g, i), withImages)); });
  table.appendChild(body);
  return el("div", { class: "scroll" }, table);
}

function breakdownDetails(g) {
  var b = g.breakdown;
  if (!b) return null;
  var headline = b.metric + " " + (typeof b.score === "number" ? fmt(b.score, 2) : "not scored") +
    (b.n === null ? "" : " on " + b.n + " samples") + (b.protocol ? ", " + b.protocol + " protocol" : "") +
    (b.reason ? " (" + b.reason + ")" : "");
  var details = el("details", { class: "breakdown", id: "sample-breakdown-details" },
    el("summary", null, g.title + ": " + headline));
  b.sections.forEach(function (section) {
    details.appendChild(el("h4", null, section.name));
    details.appendChild(simpleTable(null, [{ label: "", text: true }].concat(section.columns.map(function (c) {
      return { label: c };
    })), section.rows.map(function (r) {
      return [{ text: r[0] }].concat(r[1].map(function (v) {
        return { text: typeof v === "number" ? fmt(v, Number.isInteger(v) ? 0 : 2) : (v === null ? "\u2013" : v) };
      }));
    })));
  });
  return details;
}

function option(pair) {
  return el("option", { value: pair[0] }, pair[1]);
}

function renderSamples() {
  var root = host("samples");
  if (!D.samples.length) {
    append(root, el("p", { class: "empty" }, "No samples were passed to the report."));
    return;
  }
  var groupSelect = el("select", { id: "sample-group" }, D.samples.map(function (g, i) {
    return option([i, g.run + " \u2014 " + g.suite + " (" + g.count + ")"]);
  }));
  var filterInput = el("input", { id: "sample-filter", type: "search", placeholder: "text in prompt or prediction" });
  var statusSelect = el("select", { id: "sample-status" }, [["all", "all"], ["correct", "correct (full credit)"],
    ["incorrect", "incorrect (less than full credit)"], ["unscored", "not scored"]].map(option));
  var sortSelect = el("select", { id: "sample-sort" }, [["index", "dataset order"], ["score-asc", "score, lowest first"],
    ["score-desc", "score, highest first"]].map(option));
  var count = el("span", { class: "count", id: "sample-count" });
  var previous = el("button", { type: "button", id: "sample-previous" }, "\u2039 Previous");
  var next = el("button", { type: "button", id: "sample-next" }, "Next \u203a");
  var pageInput = el("input", { id: "sample-page", type: "number", min: 1, step: 1, value: 1 });
  var pageCount = el("span", { id: "sample-pages" });
  var range = el("span", { class: "count", id: "sample-range" });
  var breakdown = el("div", { id: "sample-breakdown" });
  var list = el("div", { id: "sample-list" });
  append(root, [el("div", { class: "controls" }, [
    el("label", null, ["Run and suite", groupSelect]), el("label", null, ["Filter", filterInput]),
    el("label", null, ["Show", statusSelect]), el("label", null, ["Sort", sortSelect]), count]), breakdown,
    el("div", { class: "controls pager", id: "sample-pager" },
      [previous, el("label", null, ["Page", pageInput, pageCount]), next, range]), list]);
  var page = 1;

  function group() {
    return D.samples[Number(groupSelect.value)] || D.samples[0];
  }

  function applyHash() {
    var state = readHash();
    if (state.run !== null || state.suite !== null) {
      var match = D.samples.findIndex(function (g) {
        return (state.run === null || g.run === state.run) && (state.suite === null || g.suite === state.suite);
      });
      if (match >= 0) groupSelect.value = String(match);
    }
    filterInput.value = state.filter;
    statusSelect.value = state.status;
    sortSelect.value = state.sort;
    if (statusSelect.value === "") statusSelect.value = "all";
    if (sortSelect.value === "") sortSelect.value = "index";
    page = state.page;
    draw();
  }

  function writeHash() {
    var g = group();
    var params = new URLSearchParams();
    params.set("run", g.run);
    params.set("suite", g.suite);
    if (filterInput.value) params.set("filter", filterInput.value);
    if (statusSelect.value !== "all") params.set("status", statusSelect.value);
    if (sortSelect.value !== "index") params.set("sort", sortSelect.value);
    if (page > 1) params.set("page", String(page));
    try { history.replaceState(null, "", "#" + params.toString()); } catch (e) { /* file:// may refuse */ }
  }

  function draw() {
    var g = group();
    while (breakdown.firstChild) breakdown.removeChild(breakdown.firstChild);
    append(breakdown, [breakdownDetails(g), g.note ? el("p", { class: "note", id: "sample-note" }, g.note) : null]);
    var positions = selectSamples(g, filterInput.value.toLowerCase(), statusSelect.value, sortSelect.value);
    var pages = Math.max(1, Math.ceil(positions.length / SAMPLE_PAGE));
    page = Math.min(Math.max(1, page), pages);
    var first = (page - 1) * SAMPLE_PAGE;
    var shown = positions.slice(first, first + SAMPLE_PAGE);
    count.textContent = positions.length + " of " + g.count + " samples";
    pageInput.value = String(page);
    pageInput.setAttribute("max", String(pages));
    pageCount.textContent = "of " + pages;
    range.textContent = shown.length ? "showing " + (first + 1) + "\u2013" + (first + shown.length) : "nothing to show";
    previous.disabled = page <= 1;
    next.disabled = page >= pages;
    while (list.firstChild) list.removeChild(list.firstChild);
    list.appendChild(sampleTable(g, shown));
  }

  function changed() { page = 1; writeHash(); draw(); }
  function turnTo(target) { page = target; draw(); writeHash(); }
  groupSelect.addEventListener("change", changed);
  filterInput.addEventListener("input", changed);
  statusSelect.addEventListener("change", changed);
  sortSelect.addEventListener("change", changed);
  previous.addEventListener("click", function () { turnTo(page - 1); });
  next.addEventListener("click", function () { turnTo(page + 1); });
  pageInput.addEventListener("change", function () { turnTo(parseInt(pageInput.value, 10) || 1); });
  window.addEventListener("hashchange", applyHash);
  applyHash();
}
