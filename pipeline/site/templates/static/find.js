// "Search this interview": the turns that match, with the matching words marked, by the same
// rules as the site's search and `pipeline search` (match.js). Next and Previous (or Enter
// and Shift+Enter again) go from one place to the next, each brought into view; "Only the
// turns that match" can be unticked to read every match in its context.
// Without JavaScript the form stays hidden and the page says how to search it instead.
import { parse, tokens, match, clock } from "./match.js";

var form = document.querySelector("form.find");
var turns = Array.prototype.slice.call(document.querySelectorAll(".turns .turn"));
if (form && turns.length) {
  var input = form.querySelector("#find-query");
  var status = form.querySelector("#find-status");
  var results = form.querySelector(".find-results");
  var only = form.querySelector(".find-only input");
  var place = form.querySelector(".find-place");  // "Place 3 of 12", announced as it changes
  var parts = Array.prototype.slice.call(document.querySelectorAll(".turns .part"));
  var said = turns.map(function (turn) {
    var node = turn.querySelector(".said");
    return { turn: turn, node: node, text: node.textContent, tokens: null, hit: false };
  });
  var timer = null, searched = "", places = [], at = -1;
  var reduced = window.matchMedia("(prefers-reduced-motion: reduce)");
  form.hidden = false;

  function changed() {  // the turns' text changed: the player marks its sentence again
    document.dispatchEvent(new Event("transcript-changed"));
  }

  function restore(entry) {
    if (entry.node.querySelector("mark")) entry.node.textContent = entry.text;
  }

  function mark(entry, words) {
    var parts = entry.text.split(/(\s+)/), index = 0, children = [];
    parts.forEach(function (part) {
      if (!part) return;
      if (/^\s+$/.test(part)) { children.push(document.createTextNode(part)); return; }
      if (words[index]) {
        var m = document.createElement("mark");
        m.textContent = part;
        children.push(m);
      } else children.push(document.createTextNode(part));
      index++;
    });
    entry.node.replaceChildren.apply(entry.node, children);
  }

  // The places found: each a run of marked words (a phrase is one place), in page order.
  function placesFound() {
    var found = [];
    said.forEach(function (entry) {
      if (!entry.hit) return;
      var before = null, run = null;
      entry.node.querySelectorAll("mark").forEach(function (m) {
        var gap = m.previousSibling;
        var next = before && (gap === before || (gap && gap.nodeType === 3 && !gap.data.trim() &&
                                                 gap.previousSibling === before));
        if (next) run.marks.push(m);
        else { run = { marks: [m], turn: entry.turn }; found.push(run); }
        before = m;
      });
    });
    return found;
  }

  function filter() {
    var filtering = !!searched && only.checked;
    said.forEach(function (entry) { entry.turn.hidden = filtering && !entry.hit; });
    parts.forEach(function (part) { part.hidden = filtering && !part.querySelector(".turn:not([hidden])"); });
  }

  function run() {
    var text = input.value.trim();
    if (!text) { reset(); return; }
    var query = parse(text);
    if (query.error) { status.textContent = query.error; return; }
    var found = 0;
    said.forEach(function (entry) {
      entry.tokens = entry.tokens || tokens(entry.text);
      var hit = match(query, entry.tokens);
      restore(entry);
      entry.hit = !!hit;
      if (hit) { found++; mark(entry, hit.words); }
    });
    searched = found ? text : "";
    places = found ? placesFound() : [];
    at = -1;
    place.textContent = "";
    results.hidden = !found;
    filter();
    changed();
    status.textContent = found
      ? found + " of " + said.length + " turns match “" + text + "” (" + places.length +
        (places.length === 1 ? " place" : " places") + ")."
      : "No turn matches “" + text + "”; every turn is shown again.";
  }

  function go(step) {
    if (!places.length) return;
    if (at >= 0) places[at].marks.forEach(function (m) { m.classList.remove("current-match"); });
    at = at < 0 ? (step > 0 ? 0 : places.length - 1) : (at + step + places.length) % places.length;
    var found = places[at];
    found.marks.forEach(function (m) { m.classList.add("current-match"); });
    place.textContent = "Place " + (at + 1) + " of " + places.length + " (" +
      clock(parseFloat(found.turn.dataset.start)) + ").";
    show(found.marks[0]);
  }

  // In the middle of the screen: smoothly when it is near, at once when it is far (chapters
  // not laid out yet on the way would take their real height and move it), then once more.
  function show(mark) {
    var far = Math.abs(mark.getBoundingClientRect().top) > 2 * window.innerHeight;
    mark.scrollIntoView({ block: "center", behavior: far || reduced.matches ? "auto" : "smooth" });
    if (far) requestAnimationFrame(function () {
      requestAnimationFrame(function () { mark.scrollIntoView({ block: "center" }); });
    });
  }

  function reset() {
    said.forEach(function (entry) { restore(entry); entry.hit = false; });
    searched = "";
    places = [];
    at = -1;
    filter();
    changed();
    results.hidden = true;
    status.textContent = "";
    place.textContent = "";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    if (input.value.trim() === searched && places.length) go(1);  // Enter again: the next place
    else run();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.shiftKey && input.value.trim() === searched && places.length) {
      event.preventDefault();
      go(-1);
    }
  });
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 300); });
  form.querySelector(".find-next").addEventListener("click", function () { go(1); });
  form.querySelector(".find-previous").addEventListener("click", function () { go(-1); });
  only.addEventListener("change", function () {
    filter();
    if (at >= 0) show(places[at].marks[0]);
  });
  form.querySelector(".find-clear").addEventListener("click", function () { input.value = ""; reset(); input.focus(); });
}
