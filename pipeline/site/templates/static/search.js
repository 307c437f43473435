// The site's search page: every moment of every transcript where a query is said, read from
// the static index in search/index/ (see pipeline/search/site_index.py), grouped by
// interview. Each moment has its speaker, time, the words around the match and a link that
// starts the video there (?t=SECONDS#TURN). Filters (speaker, guest, tag, dates) apply to
// each turn. Without JavaScript the page says so and offers the database download.
import { parse, tokens, match, spans, clock, nearest } from "./match.js";

const GROUPS = 10;    // interviews shown at a time
const PREVIEW = 3;    // moments shown per interview until "Show all"
const MOMENTS = 50;   // moments added per "Show more" inside an interview
const CONTEXT = 8;    // words either side of a match

// ------------------------------------------------------------------ the index, on demand

async function bytes(url) {
  var response = await fetch(url);
  if (!response.ok) throw new Error(url + ": " + response.status);
  var data = new Uint8Array(await response.arrayBuffer());
  if (data[0] === 0x1f && data[1] === 0x8b) {  // gzip (unless the server already unpacked it)
    var stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("gzip"));
    data = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return data;
}

async function json(url) {
  return JSON.parse(new TextDecoder().decode(await bytes(url)));
}

function base64(text) {
  var raw = atob(text), out = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function reader(data) {  // next(): the next varint of `data`
  var at = 0;
  return function next() {
    var value = 0, shift = 0, b;
    do { b = data[at++]; value += (b & 0x7f) * Math.pow(2, shift); shift += 7; } while (b & 0x80);
    return value;
  };
}

function varints(data, count) {  // `count` ascending numbers, stored as differences
  var out = new Int32Array(count), next = reader(data), last = 0;
  for (var k = 0; k < count; k++) out[k] = (last += next());
  return out;
}

function positionsOf(data, count) {  // per turn: how many, then the positions as differences
  var starts = new Int32Array(count + 1), flat = [], next = reader(data);
  for (var k = 0; k < count; k++) {
    starts[k] = flat.length;
    for (var n = next(), j = 0, last = 0; j < n; j++) flat.push(last += next());
  }
  starts[count] = flat.length;
  return { starts: starts, flat: flat };
}

function Index(base) {
  this.base = base;
  this.meta = json(base + "meta.json.gz");
  this.shardFiles = {};
  this.texts = {};
}

Index.prototype.shard = function (key) {
  var self = this;
  if (!this.shardFiles[key]) {
    this.shardFiles[key] = this.meta.then(function (meta) {
      if (meta.shards.indexOf(key) < 0) return {};
      var hex = Array.from(new TextEncoder().encode(key), function (b) {
        return (b < 16 ? "0" : "") + b.toString(16);
      }).join("");
      return json(self.base + "terms/" + hex + ".json.gz");
    });
  }
  return this.shardFiles[key];
};

function keyOf(term) { return Array.from(term).slice(0, 2).join(""); }

// A term's turns (sorted numbers) and, when asked, its positions in each.
Index.prototype.term = async function (term) {
  var entry = (await this.shard(keyOf(term)))[term];
  if (!entry) return null;
  var self = this, count = entry[0], inline = entry.length === 3;
  var ids = varints(inline ? base64(entry[1]) : await bytes(this.base + "postings/" + entry[1] + ".ids"), count);
  var positions = null;
  return {
    ids: ids,
    positions: async function () {
      if (!positions) {
        var data = inline ? base64(entry[2]) : await bytes(self.base + "postings/" + entry[1] + ".pos");
        positions = positionsOf(data, count);
      }
      return positions;
    }
  };
};

// The terms (in the index) that start with `prefix` (of two characters or more: its shard).
Index.prototype.prefixed = async function (prefix) {
  var entries = await this.shard(keyOf(prefix));
  return Object.keys(entries).filter(function (t) { return t.indexOf(prefix) === 0; });
};

Index.prototype.turn = async function (n) {
  var meta = await this.meta, block = Math.floor(n / meta.block);
  if (!this.texts[block]) this.texts[block] = json(this.base + "text/" + block + ".json.gz");
  var row = (await this.texts[block])[n % meta.block], starts = [], t = 0;
  row[4].forEach(function (d) { starts.push((t += d) / 10); });
  return { start: row[0], end: row[1], anchor: row[2], text: row[3], starts: starts };
};

// ------------------------------------------------------------------ sets of turns

function intersect(a, b) {
  var out = [], i = 0, j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { out.push(a[i]); i++; j++; } else if (a[i] < b[j]) i++; else j++;
  }
  return out;
}

function union(lists) {
  var seen = new Set();
  lists.forEach(function (l) { for (var i = 0; i < l.length; i++) seen.add(l[i]); });
  return Array.from(seen).sort(function (x, y) { return x - y; });
}

function subtract(a, b) {
  var drop = new Set(b);
  return a.filter(function (x) { return !drop.has(x); });
}

function find(list, value) {  // index of value in a sorted list, or -1
  var lo = 0, hi = list.length - 1;
  while (lo <= hi) {
    var mid = (lo + hi) >> 1;
    if (list[mid] === value) return mid;
    if (list[mid] < value) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}

// The turns where a query is said: the candidates from the terms' turns, then (for
// phrases, prefixes inside phrases and NEAR) the positions checked turn by turn.
async function matching(index, query) {
  var lists = {};
  async function load(term) {
    if (!(term in lists)) lists[term] = await index.term(term);
    return lists[term];
  }
  var prefixes = {};
  async function prefixTerms(prefix) {
    if (!(prefix in prefixes)) {
      prefixes[prefix] = (await Promise.all((await index.prefixed(prefix)).map(load))).filter(Boolean);
    }
    return prefixes[prefix];
  }
  async function candidates(item) {  // {ids, exact}: exact when no position check is needed
    if (item.kind === "prefix") return { ids: union((await prefixTerms(item.prefix)).map(function (l) { return l.ids; })), exact: true };
    if (item.kind === "near") {
      var parts = await Promise.all(item.items.map(candidates));
      return { ids: parts.map(function (p) { return p.ids; }).reduce(intersect), exact: false };
    }
    var found = await Promise.all(item.terms.map(load));
    if (found.some(function (l) { return !l; })) return { ids: [], exact: true };
    var ids = found.map(function (l) { return l.ids; });
    if (item.prefix) ids.push(union((await prefixTerms(item.prefix)).map(function (l) { return l.ids; })));
    return { ids: ids.reduce(intersect), exact: item.terms.length === 1 && !item.prefix };
  }
  async function positionsIn(doc, term) {
    var list = await load(term);
    if (!list) return [];
    var k = find(list.ids, doc);
    if (k < 0) return [];
    var pos = await list.positions();
    return pos.flat.slice(pos.starts[k], pos.starts[k + 1]);
  }
  async function check(item, docs) {  // the docs where the item's positions fit
    var terms = [];
    (function collect(it) {
      if (it.kind === "near") it.items.forEach(collect);
      else if (it.kind === "prefix") terms.push({ prefix: it.prefix });
      else { it.terms.forEach(function (t) { terms.push({ term: t }); }); if (it.prefix) terms.push({ prefix: it.prefix }); }
    })(item);
    var kept = [];
    for (var d = 0; d < docs.length; d++) {
      var doc = docs[d], at = {}, starting = {};
      for (var k = 0; k < terms.length; k++) {
        if (terms[k].term !== undefined) at[terms[k].term] = await positionsIn(doc, terms[k].term);
        else {
          var merged = [];
          for (var list of await prefixTerms(terms[k].prefix)) {
            var j = find(list.ids, doc);
            if (j >= 0) { var p = await list.positions(); merged = merged.concat(p.flat.slice(p.starts[j], p.starts[j + 1])); }
          }
          starting[terms[k].prefix] = merged.sort(function (x, y) { return x - y; });
        }
      }
      if (spans(item, function (t) { return at[t] || []; }, function (p) { return starting[p] || []; }).length) kept.push(doc);
    }
    return kept;
  }
  async function clause(items) {
    var all = await Promise.all(items.map(candidates));
    var docs = all.map(function (c) { return c.ids; }).reduce(intersect);
    for (var k = 0; k < items.length; k++) if (!all[k].exact && docs.length) docs = await check(items[k], docs);
    return docs;
  }
  var groups = await Promise.all(query.groups.map(async function (clauses) {
    var docs = await clause(clauses[0]);
    for (var k = 1; k < clauses.length && docs.length; k++) docs = subtract(docs, await clause(clauses[k]));
    return docs;
  }));
  return groups.length === 1 ? groups[0] : union(groups);
}

// A prefix of one letter would fetch every term that starts with it; `pipeline search` takes it.
function shortPrefix(query) {
  var found = null;
  (function walk(node) {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node.kind === "near") return node.items.forEach(walk);
    if (node.prefix !== undefined && Array.from(node.prefix).length < 2) found = node.prefix;
  })(query.groups);
  return found;
}

// ------------------------------------------------------------------ filters

function dateBound(text, end) {  // YYYY, YYYY-MM or YYYY-MM-DD -> the first (last) day, or null
  var m = /^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$/.exec(text.trim());
  if (!m || (m[3] && !m[2])) return null;
  var year = +m[1], month = m[2] ? +m[2] : (end ? 12 : 1);
  if (month < 1 || month > 12) return null;
  var last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  var day = m[3] ? +m[3] : (end ? last : 1);
  if (day < 1 || day > last) return null;
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  return year + "-" + pad(month) + "-" + pad(day);
}

function like(value, name) { return name.toLowerCase().indexOf(value.trim().toLowerCase()) >= 0; }

// ------------------------------------------------------------------ the page

function el(tag, attrs, children) {
  var node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
  (children || []).forEach(function (c) {
    if (c !== null && c !== undefined && c !== false) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  });
  return node;
}

function longDate(iso) {
  var d = new Date(iso + "T00:00:00Z");
  return d.getUTCDate() + " " + d.toLocaleString("en-GB", { month: "long", timeZone: "UTC" }) + " " + d.getUTCFullYear();
}

function plural(n, one, many) { return n.toLocaleString("en") + " " + (n === 1 ? one : many); }

function main() {
  var form = document.querySelector("form.search");
  if (!form) return;
  var root = new URL(form.dataset.root, location.href);
  var index = new Index(new URL(form.dataset.index, location.href).href);
  var input = form.querySelector("#search-query");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var facetBox = document.getElementById("search-facets");
  var moreBox = document.getElementById("search-more");
  var fields = ["speaker", "guest", "tag", "from", "to"];
  var state = { ticket: 0, groups: [], shown: 0, query: null };

  form.hidden = false;
  document.querySelectorAll("[data-needs-script]").forEach(function (n) { n.hidden = true; });

  index.meta.then(function (meta) {
    var names = { speaker: {}, guest: {}, tag: {} };
    meta.interviews.forEach(function (iv) {
      iv.speakers.forEach(function (s) { names.speaker[s] = true; });
      iv.guests.forEach(function (g) { names.guest[g] = true; });
      iv.tags.forEach(function (t) { names.tag[t] = true; });
    });
    Object.keys(names).forEach(function (field) {
      var datalist = document.getElementById("search-" + field + "-names");
      Object.keys(names[field]).sort().forEach(function (n) { datalist.appendChild(el("option", { value: n })); });
    });
    state.names = names;
    var params = new URLSearchParams(location.search);
    input.value = params.get("q") || "";
    fields.concat(["sort"]).forEach(function (f) { if (params.get(f)) form.elements[f].value = params.get(f); });
    if (fields.some(function (f) { return params.get(f); })) form.querySelector("details.search-filters").open = true;
    form.dataset.ready = "true";
    run(false);
  }).catch(function () {
    status.textContent = "Search is not available here: its index could not be loaded. Open the site " +
      "through a web server (for example `pipeline serve`), or download the database below.";
  });

  function filters() {
    var f = {};
    fields.forEach(function (name) { f[name] = form.elements[name].value.trim(); });
    return f;
  }

  // Problems with the filters, said as `pipeline search` says them.
  function problems(f) {
    var found = [];
    [["speaker", "speaker", false], ["guest", "guest", false], ["tag", "tag", true]].forEach(function (spec) {
      var value = f[spec[0]];
      if (!value) return;
      var known = Object.keys(state.names[spec[0]]);
      var ok = known.some(function (n) { return spec[2] ? n.toLowerCase() === value.toLowerCase() : like(value, n); });
      if (!ok) {
        var near = nearest(value, known);
        found.push({ field: spec[0], text: "No " + spec[1] + " is called “" + value + "”." +
                     (near ? " Did you mean " + near + "?" : ""), suggestion: near });
      }
    });
    [["from", false], ["to", true]].forEach(function (spec) {
      if (f[spec[0]] && !dateBound(f[spec[0]], spec[1])) {
        found.push({ field: spec[0], text: "“" + f[spec[0]] + "” is not a date: write YYYY, YYYY-MM or YYYY-MM-DD." });
      }
    });
    return found;
  }

  function keep(meta, f) {  // per interview: does it pass guest, tag and dates? and a turn test
    var from = f.from ? dateBound(f.from, false) : null, to = f.to ? dateBound(f.to, true) : null;
    var interviews = meta.interviews.map(function (iv) {
      return (!f.guest || iv.guests.some(function (g) { return like(f.guest, g); })) &&
        (!f.tag || iv.tags.some(function (t) { return t.toLowerCase() === f.tag.toLowerCase(); })) &&
        (!from || iv.date >= from) && (!to || iv.date <= to);
    });
    return function (i, n) {
      if (!interviews[i]) return false;
      if (!f.speaker) return true;
      var iv = meta.interviews[i], who = iv.speakers[iv.said_by[n - iv.first]];
      return !!who && like(f.speaker, who);
    };
  }

  function interviewOf(meta, n) {  // binary search over where each interview's turns start
    var lo = 0, hi = meta.interviews.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (meta.interviews[mid].first <= n) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  async function run(remember) {
    form.dataset.state = "searching";
    await search(remember);
    form.dataset.state = "done";
  }

  async function search(remember) {
    var ticket = ++state.ticket, text = input.value.trim(), f = filters();
    if (fields.some(function (n) { return f[n]; })) form.querySelector("details.search-filters").open = true;
    if (remember) {
      var url = new URL(location.href);
      url.search = "";
      if (text) url.searchParams.set("q", text);
      fields.concat(["sort"]).forEach(function (name) {
        var v = form.elements[name].value.trim();
        if (v && !(name === "sort" && v === "moments")) url.searchParams.set(name, v);
      });
      history.replaceState(null, "", url);
    }
    list.replaceChildren();
    facetBox.replaceChildren();
    moreBox.hidden = true;
    if (!text) { status.textContent = ""; return; }
    var query = parse(text);
    if (query.error) { status.textContent = query.error; return; }
    var short = shortPrefix(query);
    if (short !== null) {
      status.textContent = "“" + short + "*” is too short to search the whole archive: type at least " +
        "two letters before the *.";
      return;
    }
    var meta = await index.meta, wrong = problems(f);
    if (wrong.length) { showProblems(wrong); return; }
    status.textContent = "Searching…";
    var started = performance.now(), turns;
    try {
      turns = await matching(index, query);
    } catch (error) {
      status.textContent = "Search failed: " + error.message;
      return;
    }
    if (ticket !== state.ticket) return;
    var pass = keep(meta, f), byInterview = new Map();
    for (var k = 0; k < turns.length; k++) {
      var i = interviewOf(meta, turns[k]);
      if (!pass(i, turns[k])) continue;
      if (!byInterview.has(i)) byInterview.set(i, []);
      byInterview.get(i).push(turns[k]);
    }
    var groups = Array.from(byInterview, function (pair) { return { interview: meta.interviews[pair[0]], turns: pair[1] }; });
    var sort = form.elements.sort.value;
    groups.sort(sort === "newest" ? function (a, b) { return a.interview.first - b.interview.first; } :
                sort === "oldest" ? function (a, b) { return b.interview.first - a.interview.first; } :
                function (a, b) { return b.turns.length - a.turns.length || a.interview.first - b.interview.first; });
    state.groups = groups;
    state.query = query;
    state.shown = 0;
    var moments = groups.reduce(function (n, g) { return n + g.turns.length; }, 0);
    status.textContent = moments
      ? plural(moments, "moment", "moments") + " in " + plural(groups.length, "interview", "interviews") +
        " match “" + text + "”" + (fields.some(function (n) { return f[n]; }) ? " with the chosen filters" : "") + "."
      : "Nothing matches “" + text + "”" + (fields.some(function (n) { return f[n]; }) ? " with the chosen filters" : "") + ".";
    form.dataset.searchMs = String(Math.round(performance.now() - started));
    facets(meta, turns, f);
    await showMore(ticket);
    form.dataset.firstResultsMs = String(Math.round(performance.now() - started));
  }

  function showProblems(wrong) {
    status.textContent = wrong.map(function (w) { return w.text; }).join(" ");
    wrong.forEach(function (w) {
      if (!w.suggestion) return;
      var button = el("button", { type: "button", "class": "suggestion" }, ["Use " + w.suggestion]);
      button.addEventListener("click", function () { form.elements[w.field].value = w.suggestion; run(true); });
      facetBox.appendChild(button);
    });
  }

  // Counts of the matching turns by speaker, guest, tag and year, each counted with the
  // other filters applied; each value a button that sets its filter.
  function facets(meta, turns, f) {
    var specs = [["speaker", "Speakers"], ["guest", "Guests"], ["tag", "Tags"], ["year", "Years"]];
    specs.forEach(function (spec) {
      var field = spec[0], counts = {}, others = Object.assign({}, f);
      if (field === "year") { others.from = ""; others.to = ""; } else others[field] = "";
      var pass = keep(meta, others);
      turns.forEach(function (n) {
        var i = interviewOf(meta, n), iv = meta.interviews[i];
        if (!pass(i, n)) return;
        var values = field === "speaker" ? [iv.speakers[iv.said_by[n - iv.first]]] :
          field === "guest" ? iv.guests : field === "tag" ? iv.tags : [iv.date.slice(0, 4)];
        values.forEach(function (v) { if (v) counts[v] = (counts[v] || 0) + 1; });
      });
      var values = Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a] || (a < b ? -1 : 1); });
      if (values.length < 2 && !(field === "year" ? f.from || f.to : f[field])) return;
      var items = values.slice(0, 8).map(function (v) {
        var button = el("button", { type: "button", "aria-pressed": String(field === "year" ? f.from === v && f.to === v : f[field] === v) },
                        [v, " ", el("span", { "class": "count" }, ["(" + counts[v].toLocaleString("en") + ")"])]);
        button.addEventListener("click", function () {
          if (field === "year") { form.elements.from.value = v; form.elements.to.value = v; } else form.elements[field].value = v;
          run(true);
        });
        return el("li", {}, [button]);
      });
      facetBox.appendChild(el("div", { "class": "facet" }, [
        el("h2", { id: "facet-" + field }, [spec[1]]),
        el("ul", { "aria-labelledby": "facet-" + field }, items)]));
    });
  }

  async function showMore(ticket) {
    var next = state.groups.slice(state.shown, state.shown + GROUPS);
    state.shown += next.length;
    var items = await Promise.all(next.map(function (g) { return group(g); }));
    if (ticket !== state.ticket) return;
    items.forEach(function (item) { list.appendChild(item); });
    var left = state.groups.length - state.shown;
    moreBox.hidden = left <= 0;
    moreBox.querySelector("button").textContent = "Show " + Math.min(left, GROUPS) + " more interviews (" + left + " left)";
  }

  function group(g) {
    var iv = g.interview, title = iv.title;
    var moments = el("ol", { "class": "moments", "aria-label": "Moments in " + title });
    var item = el("li", { "class": "search-result" }, [
      el("h2", {}, [el("a", { href: new URL(iv.slug + "/", root).href }, [title])]),
      el("p", { "class": "meta" }, [longDate(iv.date), iv.guests.length ? " · " + iv.guests.join(", ") : "",
                                    " · " + plural(g.turns.length, "moment", "moments")]),
      moments]);
    var shown = 0;
    async function add(count) {
      var turns = g.turns.slice(shown, shown + count);
      shown += turns.length;
      (await Promise.all(turns.map(function (n) { return moment(iv, n); }))).forEach(function (m) { moments.appendChild(m); });
      if (shown < g.turns.length) {
        more.textContent = shown === PREVIEW && g.turns.length <= MOMENTS + PREVIEW
          ? "Show all " + g.turns.length + " moments in this interview"
          : "Show " + Math.min(MOMENTS, g.turns.length - shown) + " more moments in this interview (" + (g.turns.length - shown) + " left)";
        more.hidden = false;
      } else more.hidden = true;
    }
    var more = el("button", { type: "button", "class": "more-moments", hidden: "" }, []);
    more.addEventListener("click", function () {
      var first = moments.children.length;
      add(MOMENTS).then(function () {  // keep the keyboard where the new moments start
        var link = moments.children[first] && moments.children[first].querySelector("a");
        if (link) link.focus();
      });
    });
    item.appendChild(more);
    return add(PREVIEW).then(function () { return item; });
  }

  async function moment(iv, n) {
    var turn = await index.turn(n), words = turn.text.split(/\s+/).filter(Boolean);
    var found = match(state.query, tokens(turn.text)) || { words: {}, first: 0 };
    var time = Math.max(turn.start, Math.min(turn.end, turn.starts[found.first] !== undefined ? turn.starts[found.first] : turn.start));
    var from = Math.max(0, found.first - CONTEXT), to = Math.min(words.length, found.first + CONTEXT + 4), parts = [];
    if (from > 0) parts.push("… ");
    for (var i = from; i < to; i++) {
      parts.push(found.words[i] ? el("mark", {}, [words[i]]) : words[i]);
      if (i + 1 < to) parts.push(" ");
    }
    if (to < words.length) parts.push(" …");
    var speaker = iv.speakers[iv.said_by[n - iv.first]];
    var href = new URL(iv.slug + "/?t=" + Math.floor(time) + "#" + turn.anchor, root).href;
    return el("li", {}, [el("a", { href: href }, [
      el("span", { "class": "time" }, [clock(time)]), " ",
      speaker ? el("span", { "class": "who" }, [speaker + ":"]) : "", speaker ? " " : "",
      el("span", { "class": "excerpt" }, parts)])]);
  }

  var timer = null;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    run(true);
  });
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { run(true); }, 350); });
  form.addEventListener("change", function (event) { if (event.target !== input) run(true); });
  moreBox.querySelector("button").addEventListener("click", function () {
    var first = list.children.length;
    showMore(state.ticket).then(function () {
      var link = list.children[first] && list.children[first].querySelector("h2 a");
      if (link) link.focus();
    });
  });
}

main();
