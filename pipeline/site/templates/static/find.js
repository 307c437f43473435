// "Search this interview": shows only the transcript turns that match, with the matching
// words marked, by the same rules as the site's search and `pipeline search` (match.js).
// Without JavaScript the form stays hidden; the browser's own find works on the page.
import { parse, tokens, match } from "./match.js";

var form = document.querySelector("form.find");
var turns = Array.prototype.slice.call(document.querySelectorAll(".turns .turn"));
if (form && turns.length) {
  var input = form.querySelector("#find-query");
  var status = form.querySelector("#find-status");
  var clear = form.querySelector(".find-clear");
  var said = turns.map(function (turn) {
    var node = turn.querySelector(".said");
    return { turn: turn, node: node, text: node.textContent, tokens: null };
  });
  var timer = null;
  form.hidden = false;

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
      entry.turn.hidden = !hit;
      if (hit) { found++; mark(entry, hit.words); }
    });
    clear.hidden = false;
    status.textContent = found
      ? found + " of " + said.length + " turns match “" + text + "”."
      : "No turn matches “" + text + "”; every turn is shown again.";
    if (!found) said.forEach(function (entry) { entry.turn.hidden = false; });
  }

  function reset() {
    said.forEach(function (entry) { restore(entry); entry.turn.hidden = false; });
    clear.hidden = true;
    status.textContent = "";
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); clearTimeout(timer); run(); });
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 300); });
  clear.addEventListener("click", function () { input.value = ""; reset(); input.focus(); });
}
