// "Cite this moment" on post pages. Without JavaScript every turn's "Cite" link is already
// its permanent address (?t=START&end=END#t-START). With it:
// - "Cite" opens a panel under the turn with that link and the citation as plain text,
//   BibTeX and CSL-JSON, each with a copy button (the same text `pipeline cite` prints:
//   the templates come from the page, written by pipeline/search/cite.py);
// - selecting words of the transcript offers "Cite the selected words", for just that span;
// - a page opened at a cited span marks its turns, stops the recording at its end once, and
//   finds the turn by its time when its anchor is gone (an editor merged paragraphs).
import { clock } from "./match.js";

(function () {
  var panel = document.getElementById("cite-panel");
  if (!panel) return;
  var data = JSON.parse(panel.dataset.citation);
  var turns = Array.prototype.slice.call(document.querySelectorAll(".turns .turn[data-start]"));
  var selectionButton = null;

  function speakerOf(turn) {
    var name = turn.querySelector(".speaker");
    return name ? name.firstChild.textContent.trim() : "";
  }

  // The same blanks as cite.py's Span.values(): whole seconds, rounded down and up.
  function fill(template, span) {
    var t = Math.floor(span.start + 1e-6), end = Math.max(Math.ceil(span.end - 1e-6), t + 1);
    var values = { t: String(t), end: String(end), from: clock(t), to: clock(end), anchor: span.anchor };
    Object.keys(values).forEach(function (name) { template = template.split(data.blanks[name]).join(values[name]); });
    return template;
  }

  function open(span, turn) {
    var formats = data.templates[span.speaker] || data.templates[""];
    var link = new URL(fill(data.link, span)).href;
    panel.querySelector(".cite-span").textContent = (span.speaker ? span.speaker + ", " : "") +
      clock(span.start) + "–" + clock(Math.max(Math.ceil(span.end - 1e-6), Math.floor(span.start + 1e-6) + 1));
    panel.querySelector("#cite-link").value = link;
    panel.querySelector("#cite-text").textContent = fill(formats.text, span);
    panel.querySelector("#cite-bibtex").textContent = fill(formats.bibtex, span);
    panel.querySelector("#cite-csl-json").textContent = fill(formats["csl-json"], span);
    panel.querySelector(".cite-copied").textContent = "";
    turn.appendChild(panel);
    panel.hidden = false;
    panel.focus();
  }

  function close() {
    var turn = panel.closest(".turn");
    panel.hidden = true;
    var back = turn && turn.querySelector("a.cite");
    if (back) back.focus();
  }

  function turnSpan(turn) {
    return { speaker: speakerOf(turn), start: parseFloat(turn.dataset.start),
             end: parseFloat(turn.dataset.end), anchor: turn.id };
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.cite");
    if (link && !(event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.button)) {
      event.preventDefault();
      var turn = link.closest(".turn");
      open(turnSpan(turn), turn);
      return;
    }
    var copy = event.target.closest && event.target.closest("button[data-copy]");
    if (copy) {
      var source = document.getElementById(copy.dataset.copy);
      var text = source.value !== undefined && source.tagName === "INPUT" ? source.value : source.textContent;
      var said = panel.querySelector(".cite-copied");
      var done = function () { said.textContent = "Copied."; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { select(source); });
      } else select(source);
      return;
    }
    if (event.target.closest && event.target.closest(".cite-close")) close();
  });
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") close(); });

  function select(node) {  // no clipboard here: select the text so the reader can copy it
    if (node.select) { node.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    panel.querySelector(".cite-copied").textContent = "Selected: press Ctrl+C (⌘C) to copy.";
  }

  // --- A selection of words: its first word's start to its last word's end.
  function wordAt(said, node, offset, last) {
    var range = document.createRange();
    range.setStart(said, 0);
    range.setEnd(node, offset);
    var before = range.toString();
    var count = before.split(/\s+/).filter(Boolean).length;
    if (last) return Math.max(count - 1, 0);
    return /\s$/.test(before) || !before ? count : count - 1;
  }

  function selectedSpan() {
    var selection = getSelection();
    if (!selection.rangeCount || selection.isCollapsed) return null;
    var range = selection.getRangeAt(0);
    var element = function (n) { return n.nodeType === 1 ? n : n.parentElement; };
    var first = element(range.startContainer).closest(".said");
    var last = element(range.endContainer).closest(".said");
    if (!first || !last || !range.toString().trim()) return null;
    var a = wordAt(first, range.startContainer, range.startOffset, false);
    var b = wordAt(last, range.endContainer, range.endOffset, true);
    var startsA = first.dataset.starts.split(" ").map(Number), startsB = last.dataset.starts.split(" ").map(Number);
    var turnA = first.closest(".turn"), turnB = last.closest(".turn");
    var start = startsA[Math.min(a, startsA.length - 1)];
    var end = b + 1 < startsB.length ? startsB[b + 1] : parseFloat(turnB.dataset.end);
    if (!(end > start)) end = parseFloat(turnB.dataset.end);
    return { span: { speaker: speakerOf(turnA), start: start, end: end, anchor: turnA.id }, turn: turnB };
  }

  var pending = null;
  document.addEventListener("selectionchange", function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      var found = selectedSpan();
      if (!found) { if (selectionButton && !selectionButton.contains(document.activeElement)) selectionButton.hidden = true; return; }
      if (!selectionButton) {
        selectionButton = document.createElement("button");
        selectionButton.type = "button";
        selectionButton.className = "cite-selection";
        selectionButton.addEventListener("click", function () {
          var chosen = selectionButton.chosen;
          selectionButton.hidden = true;
          open(chosen.span, chosen.turn);
        });
      }
      selectionButton.chosen = found;
      selectionButton.textContent = "Cite the selected words (" + clock(found.span.start) + "–" +
        clock(Math.max(Math.ceil(found.span.end - 1e-6), Math.floor(found.span.start + 1e-6) + 1)) + ")";
      found.turn.appendChild(selectionButton);
      selectionButton.hidden = false;
    }, 250);
  });

  // --- Opened at a cited span: ?t=START&end=END.
  var params = new URLSearchParams(location.search);
  var from = parseFloat(params.get("t")), to = parseFloat(params.get("end"));
  if (isNaN(from)) return;
  var containing = null;
  turns.forEach(function (turn) {
    var a = parseFloat(turn.dataset.start), b = parseFloat(turn.dataset.end);
    if (a <= from + 0.05) containing = turn;
    if (!isNaN(to) && b > from && a < to) turn.classList.add("cited");
  });
  if (containing && !(location.hash && document.getElementById(location.hash.slice(1)))) {
    containing.scrollIntoView({ block: "start" });
  }
  var player = document.getElementById("player");
  if (!isNaN(to) && player && player.tagName !== "IFRAME") {
    var stopped = false;
    player.addEventListener("timeupdate", function () {
      if (!stopped && player.currentTime >= to && player.currentTime < to + 2) { stopped = true; player.pause(); }
    });
  }
})();
