// The site's search page: Pagefind's index, read in the browser, with filters, and results
// that link to the moment each match was said (?t=SECONDS, which the post's player seeks to).
// Without JavaScript the page still offers the database download.
(function () {
  "use strict";
  var form = document.querySelector("form.search");
  if (!form) return;
  var input = document.getElementById("search-query");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var filterBox = document.getElementById("search-filters");
  var root = new URL(form.dataset.root, location.href);
  var FILTERS = [["speaker", "Speaker"], ["guest", "Guest"], ["tag", "Tag"], ["year", "Year"]];
  var PAGE = 10;
  var pagefind = null, timer = null, latest = 0, shown = PAGE;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function clock(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = Math.floor(seconds % 60);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }

  function selectedFilters() {
    var chosen = {};
    filterBox.querySelectorAll("input:checked").forEach(function (box) {
      (chosen[box.name] = chosen[box.name] || { any: [] }).any.push(box.value);
    });
    return chosen;
  }

  function buildFilters(available) {
    FILTERS.forEach(function (pair) {
      var values = Object.keys(available[pair[0]] || {}).sort();
      if (!values.length) return;
      var boxes = values.map(function (value, i) {
        var id = "filter-" + pair[0] + "-" + i;
        return el("li", {}, [el("input", { type: "checkbox", id: id, name: pair[0], value: value }),
                             el("label", { "for": id }, [value])]);
      });
      filterBox.appendChild(el("fieldset", {}, [el("legend", {}, [pair[1]]), el("ul", {}, boxes)]));
    });
    filterBox.hidden = !filterBox.children.length;
  }

  // The transcript turns (id="turn-N"; their start times are the page's turn_starts metadata)
  // that hold the best matches, each with an estimate of when its match is said: the turn's
  // start plus its words so far at the turn's own pace.
  function moments(data, terms) {
    var starts = (data.meta.turn_starts || "").split(" ").map(Number);
    var turns = data.anchors.filter(function (a) { return /^turn-\d+$/.test(a.id); })
      .map(function (a) { return { id: a.id, location: a.location, start: starts[+a.id.slice(5) - 1] }; })
      .filter(function (a) { return a.start >= 0; })
      .sort(function (a, b) { return a.location - b.location; });
    var spots = (data.weighted_locations || data.locations.map(function (l) {
      return { location: l, balanced_score: 1 };
    })).slice().sort(function (a, b) { return a.location - b.location; });
    var span = Math.max(4, terms * 2), best = {};
    // A spot's score is how many matching words crowd after it (Pagefind's own weights favour
    // headings, but a moment is where the words were said together).
    spots.forEach(function (spot, i) {
      var score = 0;
      for (var j = i; j < spots.length && spots[j].location < spot.location + span; j++) score += 1 + spots[j].balanced_score / 1e6;
      var turn = -1;
      while (turn + 1 < turns.length && turns[turn + 1].location <= spot.location) turn++;
      if (!best[turn] || score > best[turn].score) best[turn] = { score: score, location: spot.location, turn: turn };
    });
    var words = data.content.split(/\s+/), marked = {};
    spots.forEach(function (s) { marked[s.location] = true; });
    var found = Object.keys(best).map(function (k) { return best[k]; })
      .sort(function (a, b) { return b.score - a.score; });
    // A turn with only a stray word of a longer query is not a moment worth offering.
    return found.filter(function (m) { return m.score >= found[0].score / 2; }).slice(0, 3)
      .map(function (m) {
        return { turn: turns[m.turn], time: m.turn < 0 ? null : timeAt(turns, m.turn, m.location),
                 excerpt: excerpt(words, marked, m.location) };
      });
  }

  function timeAt(turns, k, location) {
    var start = turns[k].start, next = turns[k + 1], first = turns[0], pace;
    if (next) pace = (next.start - start) / Math.max(1, next.location - turns[k].location);
    else if (k > 0) pace = (start - first.start) / Math.max(1, turns[k].location - first.location);
    else pace = 0.4;  // one turn only: about 150 words a minute
    return Math.max(start, Math.floor(start + (location - turns[k].location) * pace));
  }

  function excerpt(words, marked, location) {
    var from = Math.max(0, location - 10), to = Math.min(words.length, location + 15), parts = [];
    if (from > 0) parts.push("…");
    for (var i = from; i < to; i++) {
      if (parts.length) parts.push(" ");
      parts.push(marked[i] ? el("mark", {}, [words[i]]) : words[i]);
    }
    if (to < words.length) parts.push("…");
    return el("span", { "class": "excerpt" }, parts);
  }

  function resultItem(data, term) {
    var title = data.meta.title || data.url;
    var moments_ = moments(data, term.split(/\s+/).length).map(function (m) {
      var href = m.time === null ? data.url : data.url + "?t=" + m.time + "#" + m.turn.id;
      var label = m.time === null ? "Introduction" : clock(m.time);
      return el("li", {}, [el("a", { href: href }, [el("span", { "class": "time" }, [label]), " ", m.excerpt])]);
    });
    return el("li", { "class": "search-result" }, [
      el("h2", {}, [el("a", { href: data.url }, [title])]),
      data.meta.date ? el("p", { "class": "meta" }, [data.meta.date]) : "",
      moments_.length ? el("ul", { "class": "moments", "aria-label": "Moments in " + title }, moments_) : "",
    ].filter(Boolean));
  }

  function run() {
    var term = input.value.trim(), filters = selectedFilters(), ticket = ++latest;
    if (!pagefind) return;
    if (!term && !Object.keys(filters).length) {
      list.replaceChildren();
      status.textContent = "";
      return;
    }
    pagefind.search(term || null, { filters: filters }).then(function (search) {
      if (ticket !== latest) return null;
      return Promise.all(search.results.slice(0, shown).map(function (r) { return r.data(); }))
        .then(function (datas) {
          if (ticket !== latest) return;
          var total = search.results.length;
          list.replaceChildren.apply(list, datas.map(function (d) { return resultItem(d, term); }));
          if (total > shown) {
            var more = el("button", { type: "button", "class": "more" }, ["Show more results"]);
            more.addEventListener("click", function () { shown += PAGE; run(); });
            list.appendChild(el("li", { "class": "more" }, [more]));
          }
          var what = (total === 1 ? " matches" : " match") + (term ? " “" + term + "”" : "");
          status.textContent = (total ? total + (total === 1 ? " interview" : " interviews") : "No interviews") +
            what + (Object.keys(filters).length ? " with the chosen filters" : "") +
            (total > shown ? "; showing the first " + shown : "") + ".";
        });
    }).catch(function (error) {
      status.textContent = "Search failed: " + error.message;
    });
  }

  function later() {
    clearTimeout(timer);
    shown = PAGE;
    timer = setTimeout(run, 300);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    shown = PAGE;
    var url = new URL(location.href);
    url.searchParams.set("q", input.value.trim());
    history.replaceState(null, "", url);
    run();
  });
  input.addEventListener("input", later);
  filterBox.addEventListener("change", later);

  import(new URL("pagefind/pagefind.js", root).href).then(function (module) {
    pagefind = module;
    return pagefind.options({ baseUrl: root.pathname }).then(function () { return pagefind.filters(); });
  }).then(function (available) {
    buildFilters(available || {});
    input.value = new URLSearchParams(location.search).get("q") || input.value;
    form.dataset.ready = "true";
    run();
  }).catch(function () {
    status.textContent = "Search is not available here: its index could not be loaded. " +
      "Open the site through a web server (for example `python3 -m http.server -d site`), " +
      "or download the database below.";
  });
})();
