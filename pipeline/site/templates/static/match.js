// The matching rules the site's search and each post's "Search this interview" share, the
// same as `pipeline search` (SQLite FTS5 with its porter tokenizer):
// - text is split into tokens as FTS5's unicode61 tokenizer splits it (letters and digits;
//   everything else separates), lower-cased, accents removed, then stemmed (Porter), so
//   "blog" finds "blogs" and "blogging";
// - a query is words (all of them in one turn), "exact phrases", prefixes (blog*),
//   NEAR(a b, 5), NOT (what follows it must not be in the turn) and OR (either side),
//   with FTS5's precedence: the words of a group bind first, then NOT, then OR.
import { stemmer } from "./stemmer.js";

const SEPARATOR = /[^\p{L}\p{N}\p{Co}]+/u;

function fold(token) {
  return token.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

// A token as FTS5's index holds it.
export function term(token) {
  return stemmer(fold(token));
}

// The tokens of a text: [{term, word}], `word` being the index of the whitespace-separated
// word it is part of (what the word times count).
export function tokens(text) {
  var result = [];
  text.split(/\s+/).filter(Boolean).forEach(function (word, index) {
    word.split(SEPARATOR).forEach(function (piece) {
      if (piece) result.push({ term: term(piece), word: index });
    });
  });
  return result;
}

function terms(text) {
  return text.split(SEPARATOR).filter(Boolean).map(term);
}

// The query as groups (alternatives) of clauses: the first clause must match, the others
// must not. Each clause is a list of items: {kind: "phrase", terms, prefix?} (one word is a
// phrase of one term; a word with punctuation inside is a phrase, as FTS5 reads it),
// {kind: "prefix", prefix} or {kind: "near", items, distance}. Returns {groups} or {error}.
export function parse(query) {
  var pieces = query.match(/"[^"]*"?|NEAR\s*\([^)]*\)?|\S+/g) || [];
  var groups = [], clauses = [[]];
  function item(piece) {
    if (/^NEAR\s*\(/.test(piece)) {
      var inside = piece.replace(/^NEAR\s*\(/, "").replace(/\)$/, "");
      var distance = 10, m = /,\s*(\d+)\s*$/.exec(inside);
      if (m) { distance = +m[1]; inside = inside.slice(0, m.index); }
      var parts = (inside.match(/"[^"]*"?|[^\s"]+/g) || []).map(item).filter(Boolean);
      return parts.length > 1 ? { kind: "near", items: parts, distance: distance } : parts[0] || null;
    }
    if (piece[0] === '"') {
      var phrase = terms(piece.replace(/"/g, " "));
      return phrase.length ? { kind: "phrase", terms: phrase } : null;
    }
    if (/\*$/.test(piece)) {
      // FTS5 stems a prefix too: "blogging*" looks for terms that start with "blog".
      var head = terms(piece.slice(0, -1));
      if (!head.length) return null;
      if (head.length === 1) return { kind: "prefix", prefix: head[0] };
      return { kind: "phrase", terms: head.slice(0, -1), prefix: head[head.length - 1] };
    }
    var words = terms(piece);
    return words.length ? { kind: "phrase", terms: words } : null;
  }
  pieces.forEach(function (piece) {
    if (piece === "OR") { groups.push(clauses); clauses = [[]]; return; }
    if (piece === "AND") return;
    if (piece === "NOT") { clauses.push([]); return; }
    var found = item(piece);
    if (found) clauses[clauses.length - 1].push(found);
  });
  groups.push(clauses);
  groups = groups.filter(function (c) { return c[0].length; })
    .map(function (c) { return c.filter(function (clause) { return clause.length; }); });
  if (!groups.length) return { error: "Nothing to search for: type a word or a phrase." };
  return { groups: groups };
}

// Where an item is in one turn: a list of [first, last] token positions. `at(term)` and
// `starting(prefix)` give the sorted positions of a term, or of every term with a prefix.
export function spans(item, at, starting) {
  if (item.kind === "prefix") return starting(item.prefix).map(function (p) { return [p, p]; });
  if (item.kind === "near") {
    var each = item.items.map(function (part) { return spans(part, at, starting); });
    if (each.some(function (p) { return !p.length; })) return [];
    var length = item.items.reduce(function (n, part) {
      return n + (part.terms ? part.terms.length + (part.prefix ? 1 : 0) : 1);
    }, 0);
    var found = [];
    each[0].forEach(function (start) {  // every part close to the first one's place
      var lo = start[0], hi = start[1];
      for (var k = 1; k < each.length; k++) {
        var best = null;
        each[k].forEach(function (p) {
          var span = Math.max(hi, p[1]) - Math.min(lo, p[0]);
          if (!best || span < best.span) best = { span: span, p: p };
        });
        lo = Math.min(lo, best.p[0]); hi = Math.max(hi, best.p[1]);
      }
      if (hi - lo + 1 - length <= item.distance) found.push([lo, hi]);
    });
    return found;
  }
  var first = at(item.terms[0]);
  var rest = item.terms.slice(1).map(function (t) { return new Set(at(t)); });
  var tail = item.prefix && item.terms.length ? new Set(starting(item.prefix)) : null;
  var n = item.terms.length + (tail ? 1 : 0), found = [];
  first.forEach(function (p) {
    for (var j = 0; j < rest.length; j++) if (!rest[j].has(p + j + 1)) return;
    if (tail && !tail.has(p + item.terms.length)) return;
    found.push([p, p + n - 1]);
  });
  return found;
}

// The spans of the whole query in one turn (null when it does not match).
export function evaluate(query, at, starting) {
  var marked = null;
  query.groups.forEach(function (clauses) {
    var found = [], ok = true;
    clauses[0].forEach(function (item) {
      var s = ok ? spans(item, at, starting) : [];
      if (!s.length) ok = false;
      found = found.concat(s);
    });
    for (var k = 1; k < clauses.length && ok; k++) {
      if (clauses[k].every(function (item) { return spans(item, at, starting).length; })) ok = false;
    }
    if (ok) marked = (marked || []).concat(found);
  });
  return marked;
}

// Does the query match a turn's tokens? {words: {index: true} of the whitespace words to
// mark, first: the word where the first match starts}, or null.
export function match(query, toks) {
  var byTerm = {};
  toks.forEach(function (t, i) { (byTerm[t.term] = byTerm[t.term] || []).push(i); });
  var at = function (t) { return byTerm[t] || []; };
  var starting = function (prefix) {
    var found = [];
    toks.forEach(function (t, i) { if (t.term.indexOf(prefix) === 0) found.push(i); });
    return found;
  };
  var marked = evaluate(query, at, starting);
  if (!marked || !marked.length) return null;
  var words = {};
  marked.forEach(function (span) {
    for (var i = span[0]; i <= span[1]; i++) words[toks[i].word] = true;
  });
  var first = Math.min.apply(null, marked.map(function (span) { return toks[span[0]].word; }));
  return { words: words, first: first };
}

// Times as the pages write them: 1:06, 1:02:03.
export function clock(seconds) {
  seconds = Math.floor(seconds);
  var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
}

// "Did you mean ...": the known name nearest to `value` (whole names and their words), or null.
export function nearest(value, known) {
  var wanted = fold(value.trim()), best = null;
  known.forEach(function (name) {
    [name].concat(name.split(/[\s_-]+/)).forEach(function (part) {
      var score = similarity(wanted, fold(part));
      if (score >= 0.6 && (!best || score > best.score)) best = { score: score, name: name };
    });
  });
  return best && best.name;
}

function similarity(a, b) {  // as Python's difflib ratio, near enough: 2 * common / total
  var prev = new Array(b.length + 1).fill(0), cur, i, j;
  for (i = 1; i <= a.length; i++) {  // the longest common subsequence
    cur = [0];
    for (j = 1; j <= b.length; j++) cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    prev = cur;
  }
  return 2 * prev[b.length] / Math.max(a.length + b.length, 1);
}
