// The reader's page, enhanced. Without JavaScript every chapter, quote and transcript time
// is a link to the recording at that moment (video.mp4#t=75, or YouTube's &t=75s). With it:
// - those links seek the player in place (their addresses become the page's own ?t=75),
//   and `?t=` opens the page at that moment, scrolled to it and highlighted;
// - the sentence being said is highlighted (from the word timings), and its chapter;
// - "Follow along" keeps that sentence in view, but only until the reader scrolls: then it
//   waits, with a "Back to the current moment" button, which resumes it;
// - on narrow (or short) screens a compact player (play/pause, time, chapter) is pinned to
//   the top once the recording is under way; on wide ones the player keeps to the top of its
//   column, with the chapters in their own box under it;
// - K plays or pauses anywhere outside a text field (J and L skip 10 s; they can be turned
//   off), and each turn is one Tab stop (its Cite link is one arrow key away);
// - a YouTube embed is driven through the YouTube IFrame API, loaded only now.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  var element = document.getElementById("player");
  var player = !element ? null : element.tagName === "IFRAME" ? youTube(element) : html5(element);
  var reduced = window.matchMedia("(prefers-reduced-motion: reduce)");
  var wide = window.matchMedia("(min-width: 64rem)");  // chapters beside the transcript
  var besides = window.matchMedia("(min-width: 64rem) and (min-height: 36rem)");  // the player stays in its column
  var engaged = false;  // the recording was played, or a moment chosen: keep the player at hand
  var played = false;   // it was played: a reader who scrolls away is offered the way back

  function behavior() { return reduced.matches ? "auto" : "smooth"; }
  function stored(name) { try { return localStorage.getItem(name); } catch (e) { return null; } }
  function store(name, value) { try { localStorage.setItem(name, value); } catch (e) { /* blocked */ } }

  // Times people write: 90, 90.5, 1:30, 1:02:03, 1m30s.
  function parseTime(text) {
    if (!text) return null;
    var m;
    if (/^\d+(\.\d+)?$/.test(text)) return parseFloat(text);
    if ((m = /^(?:(\d+):)?(\d+):(\d\d)$/.exec(text))) return (+m[1] || 0) * 3600 + +m[2] * 60 + +m[3];
    if ((m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text)) && text) return (+m[1] || 0) * 3600 + (+m[2] || 0) * 60 + (+m[3] || 0);
    return null;
  }

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    return (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  // The moment a link points to on this page, or null for any other link.
  function timeOf(link) {
    if (link.dataset.t) return parseFloat(link.dataset.t);
    var url = new URL(link.href, location.href);
    if (url.origin !== location.origin || url.pathname !== location.pathname) return null;
    return parseTime(url.searchParams.get("t"));
  }

  // ------------------------------------------------------------------ the transcript

  var turns = Array.prototype.slice.call(document.querySelectorAll(".turns .turn[data-start]"));
  var turnStarts = turns.map(function (li) { return parseFloat(li.dataset.start); });
  var tools = document.querySelector(".transcript-tools");
  var details = new Map();

  // The last index whose time is at or before t (-1 when none is).
  function lastAt(times, t) {
    var lo = 0, hi = times.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (times[mid] <= t + 0.05) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  function wordsOf(turn) {  // the turn's word times and sentences, read once
    var known = details.get(turn);
    if (!known) {
      var said = turn.querySelector(".said");
      var starts = said.dataset.starts ? said.dataset.starts.split(" ").map(Number) : [];
      var sentences = (said.dataset.sentences || "0").split(" ").map(Number);
      known = { said: said, count: starts.length, sentences: sentences,
                times: sentences.map(function (k) { return starts[k]; }) };
      details.set(turn, known);
    }
    return known;
  }

  // What is said at t: the turn, and the sentence's first and last word (null before the
  // first turn). The same object while the same sentence is said (it is asked 4 times a second).
  function momentAt(t) {
    var i = lastAt(turnStarts, t);
    if (i < 0) return null;
    var words = wordsOf(turns[i]), k = Math.max(lastAt(words.times, t), 0);
    if (shown && shown.turn === turns[i] && shown.sentence === k) return shown;
    return { turn: turns[i], sentence: k, from: words.sentences[k],
             to: k + 1 < words.sentences.length ? words.sentences[k + 1] : words.count, range: null };
  }

  // A Range over words [from, to) of an element's text, whatever elements (find's marks) it holds.
  function wordRange(said, from, to) {
    var walker = document.createTreeWalker(said, NodeFilter.SHOW_TEXT), node, index = -1, inWord = false;
    var range = document.createRange(), started = false, end = null;
    while ((node = walker.nextNode())) {
      for (var c = 0; c < node.data.length; c++) {
        var space = /\s/.test(node.data[c]);
        if (!space && !inWord) {
          index++;
          if (index === to) return finish();
          if (index === from) { range.setStart(node, c); started = true; }
        }
        inWord = !space;
        if (inWord && index >= from) end = [node, c + 1];
      }
    }
    return finish();
    function finish() {
      if (!started || !end) return null;
      range.setEnd(end[0], end[1]);
      return range;
    }
  }

  // The sentence being said is marked with the CSS Custom Highlight API (no element is
  // added to the text, so find, selection and citing see the words as they are). Its rule is
  // here, beside the code that needs it (the HTML checker's CSS parser predates ::highlight).
  var spoken = window.CSS && CSS.highlights && window.Highlight && document.adoptedStyleSheets ? new Highlight() : null;
  if (spoken) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync("::highlight(spoken) { background-color: var(--current); color: var(--text); }");
    document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
    CSS.highlights.set("spoken", spoken);
    root.classList.add("sentence-highlight");
  }
  var shown = null;  // the moment highlighted

  function highlight(moment) {
    if (moment === shown) return false;
    if (shown && (!moment || shown.turn !== moment.turn)) shown.turn.classList.remove("current");
    if (moment) moment.turn.classList.add("current");
    shown = moment;
    paint();
    return true;
  }

  function paint() {  // the sentence's marking (again after find changed the turn's text)
    if (shown) shown.range = wordRange(wordsOf(shown.turn).said, shown.from, shown.to);
    if (!spoken) return;
    spoken.clear();
    if (shown && shown.range) spoken.add(shown.range);
  }
  document.addEventListener("transcript-changed", paint);

  function sentenceBox(moment) {
    if (!moment.range) moment.range = wordRange(wordsOf(moment.turn).said, moment.from, moment.to);
    var box = moment.range && moment.range.getBoundingClientRect();
    return box && box.height ? box : moment.turn.getBoundingClientRect();
  }

  // Where the reader can see the page: below what is pinned at the top, above the
  // "back" button at the bottom.
  function view() {
    var top = 0;
    if (tools && tools.offsetHeight) top += tools.offsetHeight;
    if (!besides.matches && element) top += pinnedHeight();
    return { top: top + 8, bottom: window.innerHeight - 64 };
  }

  // ------------------------------------------------------------------ scrolling: ours or the reader's

  // A jump of more than two screens is made at once, not smoothly: on the way, chapters the
  // browser had not laid out yet (content-visibility) would take their real height and move
  // the target. `again` places it once more when the page has settled.
  var ours = { active: false, timer: 0 };
  function scrollToY(y, how, again) {
    ours.active = true;
    clearTimeout(ours.timer);
    ours.timer = setTimeout(function () { ours.active = false; }, 1500);
    var far = Math.abs(y - window.scrollY) > 2 * window.innerHeight;
    window.scrollTo({ top: Math.max(0, y), behavior: far ? "auto" : how || behavior() });
    if (far && again) requestAnimationFrame(function () { requestAnimationFrame(again); });
  }
  window.addEventListener("scrollend", function () { clearTimeout(ours.timer); ours.active = false; });
  ["wheel", "touchstart", "keydown", "mousedown"].forEach(function (type) {  // the reader takes over
    window.addEventListener(type, function () { ours.active = false; }, { passive: true, capture: true });
  });

  // Keep the sentence being said in view: moved only when it leaves the middle of the screen.
  function keepInView(moment) {
    var box = sentenceBox(moment), area = view();
    if (box.top >= area.top && box.bottom <= area.top + (area.bottom - area.top) * 0.75) return;
    scrollToY(window.scrollY + box.top - area.top - (area.bottom - area.top) * 0.25);
  }

  // Bring a chosen moment into view: its whole turn when it fits (or a chapter's heading).
  function bringIntoView(moment, heading, how) {
    var area = view(), turn = moment.turn.getBoundingClientRect();
    var top = heading ? heading.getBoundingClientRect().top : turn.top;
    var again = function () { bringIntoView(moment, heading, "auto"); };
    if (turn.bottom - top <= area.bottom - area.top) {
      if (top >= area.top - 1 && turn.bottom <= area.bottom && (!heading || top < area.top + 2)) return;
      return scrollToY(window.scrollY + top - area.top, how, again);
    }
    var box = sentenceBox(moment);
    if (box.top < area.top || box.bottom > area.bottom) {
      scrollToY(window.scrollY + box.top - area.top - (area.bottom - area.top) * 0.25, how, again);
    }
  }

  // ------------------------------------------------------------------ follow along

  var follow = { on: false, waiting: false, button: document.querySelector("button.follow"),
                 back: document.querySelector("button.back-to-now") };
  if (follow.button && turns.length && player) {
    var saved = stored("follow-along");
    follow.on = saved === null ? !reduced.matches : saved === "on";
    follow.button.hidden = false;
    follow.button.setAttribute("aria-pressed", String(follow.on));
    follow.button.addEventListener("click", function () {
      follow.on = !follow.on;
      follow.button.setAttribute("aria-pressed", String(follow.on));
      store("follow-along", follow.on ? "on" : "off");
      if (follow.on) resume(); else wait(false);
    });
  }
  if (follow.back) follow.back.addEventListener("click", function () {
    resume();
    var link = shown && shown.turn.querySelector("a.time");
    if (link) link.focus({ preventScroll: true });  // carry on reading (or tabbing) from there
  });

  function wait(waiting) {  // the reader scrolled away: stop following until asked back
    follow.waiting = waiting;
    offerBack();
  }

  function offerBack() {  // the way back, while waiting (with its arrow: which way the moment is)
    if (!follow.back) return;
    follow.back.hidden = !(follow.waiting && follow.on && played && shown);
    if (follow.back.hidden) return;
    var box = sentenceBox(shown), area = view();
    follow.back.classList.toggle("above", box.bottom < area.top);
    follow.back.classList.toggle("below", box.top > area.bottom);
  }

  function resume() {
    wait(false);
    if (shown && engaged) bringIntoView(shown);
  }

  window.addEventListener("scroll", function () {
    pinPlayer();
    fitSide();
    if (ours.active) return;
    if (engaged && follow.on) { if (!follow.waiting) wait(true); else offerBack(); }
  }, { passive: true });

  function inView(moment) {
    var box = sentenceBox(moment), area = view();
    return box.bottom > area.top && box.top < area.bottom;
  }

  // A reader who scrolled while it was paused, and plays it again, follows again only if
  // the moment is still in view; otherwise the button offers the way back.
  function started() {
    engaged = played = true;
    pinPlayer();
    if (follow.waiting && shown && inView(shown)) wait(false);
    else wait(follow.waiting);
  }

  // ------------------------------------------------------------------ the player at hand

  var slot = document.querySelector(".player-slot");
  var box = document.getElementById("media");
  var bar = box && box.querySelector(".player-bar");
  var audio = element && element.tagName === "AUDIO";
  if (bar && player) bar.hidden = false;

  function pinnedHeight() {
    if (audio) return slot.offsetHeight;
    return box && box.classList.contains("pinned") ? box.offsetHeight : bar && engaged ? 72 : 0;
  }

  // Pinned once the recording is under way and its place has scrolled out of view (from the
  // scroll handler, so it is pinned in the same frame); the empty slot keeps its height, so
  // nothing below it moves.
  function pinPlayer() {
    if (!bar || !player) return;
    var pinned = box.classList.contains("pinned");
    var place = slot.getBoundingClientRect();
    var want = !besides.matches && engaged && place.top < -1;
    if (want === pinned) return;
    if (want) {
      slot.style.height = place.height + "px";
      box.classList.add("pinned");
    } else {
      box.classList.remove("pinned");
      slot.style.height = "";
    }
    measure();
  }
  window.addEventListener("resize", function () {
    if (box && box.classList.contains("pinned")) { box.classList.remove("pinned"); slot.style.height = ""; }
    pinPlayer();
    measure();
    fitSide();
  });

  // What is pinned at the top: the tools go under it, and focus and anchors stop below both
  // (scroll-padding). Set on those elements only: a custom property on the root would make
  // the browser restyle the whole page (75 ms at a phone's speed on the 60-minute page).
  var last = {};
  // Wide screens: near the end of the page the chapters' box shrinks rather than being
  // pushed up under the player by the end of its column.
  var side = document.querySelector(".side"), column = slot && slot.closest(".media-column"), sideFit = null;
  function fitSide() {
    if (!side || !column) return;
    var top = slot.offsetHeight, room = column.getBoundingClientRect().bottom - top;
    var fit = besides.matches && room < window.innerHeight - top ? Math.max(0, Math.floor(room)) : null;
    if (fit === sideFit) return;
    sideFit = fit;
    side.style.maxHeight = fit === null ? "" : fit + "px";
  }

  function measure() {
    var pinned = !besides.matches && element ? (audio ? slot.offsetHeight : box.classList.contains("pinned") ? box.offsetHeight : 0) : 0;
    var sizes = { pinned: pinned, tools: tools ? tools.offsetHeight : 0, player: slot ? slot.offsetHeight : 0 };
    if (sizes.pinned === last.pinned && sizes.tools === last.tools && sizes.player === last.player) return;
    last = sizes;
    if (tools) tools.style.top = pinned + "px";
    root.style.scrollPaddingTop = (pinned + sizes.tools + 8) + "px";
    if (column) column.style.setProperty("--player-height", sizes.player + "px");
  }
  if (window.ResizeObserver) {
    var observer = new ResizeObserver(measure);
    [slot, tools].forEach(function (node) { if (node) observer.observe(node); });
  }
  measure();

  var playButton = bar && bar.querySelector(".play-pause");
  var nowTime = bar && bar.querySelector(".now-time");
  var nowTitle = bar && bar.querySelector(".now-title");
  if (playButton) playButton.addEventListener("click", function () { player.toggle(); });
  var nowLink = bar && bar.querySelector(".now-chapter");
  var chapterList = document.getElementById("chapters");
  if (nowLink && chapterList) nowLink.addEventListener("click", function (event) {
    event.preventDefault();  // open the list and go there (the address keeps its moment)
    var fold = chapterList.querySelector("details");
    if (fold) fold.open = true;
    chapterList.scrollIntoView({ block: "start", behavior: behavior() });
    var first = chapterList.querySelector("a.current") || chapterList.querySelector("summary");
    if (first) first.focus({ preventScroll: true });
  });

  function playing(on) {
    if (on) started();
    if (!playButton) return;
    playButton.classList.toggle("playing", on);
    playButton.firstChild.textContent = on ? "Pause" : "Play";
  }

  // ------------------------------------------------------------------ links to moments

  var fromLinks = Array.prototype.slice.call(document.querySelectorAll("a[data-t]"));
  if (player) fromLinks.forEach(function (link) {  // with a player, a moment is this page's ?t=
    link.setAttribute("href", "?t=" + Math.floor(parseFloat(link.dataset.t) + 1e-6));
  });

  document.addEventListener("click", function (event) {
    if (!player || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey ||
        event.shiftKey || event.altKey) return;  // let people open a moment in a new tab
    var link = event.target.closest && event.target.closest("a[href]:not(.cite)");  // Cite is cite.js's
    var seconds = link ? timeOf(link) : null;
    if (seconds === null) return;
    event.preventDefault();
    var url = new URL(location.href);
    url.searchParams.set("t", String(Math.floor(seconds + 1e-6)));
    url.searchParams.delete("end");
    url.hash = "";
    history.replaceState(null, "", url);
    engaged = true;
    player.seek(seconds, true);
    var moment = momentAt(seconds);
    if (!moment) return;
    highlight(moment);
    wait(false);
    var heading = link.closest(".chapters") &&
      document.querySelector('.chapter-heading[data-t="' + link.dataset.t + '"]');
    bringIntoView(moment, heading);
  });

  // Opened at a moment (?t=75, perhaps #t-66.7): the player is set there, and the moment is
  // shown and highlighted (after the browser's own jump to the anchor, if any).
  var start = parseTime(new URLSearchParams(location.search).get("t"));
  if (start !== null) {
    engaged = !!player;
    if (player) player.seek(start, false);
    var moment = momentAt(start);
    if (moment) {
      highlight(moment);
      // Once every script has set up the page (find.js fills the tools above the transcript).
      document.addEventListener("DOMContentLoaded", function () {
        bringIntoView(moment, null, "auto");
        pinPlayer();
        bringIntoView(moment, null, "auto");  // again, under the compact player now pinned
        requestAnimationFrame(function () { wait(false); });
      });
    }
  }

  // ------------------------------------------------------------------ what is being said

  var chapters = Array.prototype.slice.call(document.querySelectorAll(".chapters a[data-t], nav[aria-label='Chapters'] a[href]"))
    .filter(function (a) { return timeOf(a) !== null; });
  var chapterTimes = chapters.map(timeOf), currentChapter = null, lastSecond = -1;

  if (player) player.onTime(function (t, isPlaying) {
    var moment = momentAt(t);
    if (highlight(moment) && moment && isPlaying && follow.on && !follow.waiting && engaged &&
        !selecting() && !keyboardInTranscript()) keepInView(moment);
    offerBack();
    var chapter = chapters[lastAt(chapterTimes, t)] || null;
    if (chapter !== currentChapter) {
      if (currentChapter) { currentChapter.classList.remove("current"); currentChapter.removeAttribute("aria-current"); }
      if (chapter) { chapter.classList.add("current"); chapter.setAttribute("aria-current", "true"); }
      currentChapter = chapter;
      if (chapter && nowTitle) nowTitle.textContent = chapter.querySelector(".title") ?
        chapter.querySelector(".title").textContent : chapter.textContent;
      if (chapter) showInSide(chapter);
    }
    if (nowTime && Math.floor(t) !== lastSecond) { lastSecond = Math.floor(t); nowTime.textContent = clock(t); }
  });
  if (player) player.onState(playing);

  function selecting() {  // never scroll while the reader selects words (to cite them)
    var selection = window.getSelection && getSelection();
    return !!(selection && !selection.isCollapsed && selection.anchorNode &&
              document.querySelector(".turns").contains(selection.anchorNode));
  }

  function keyboardInTranscript() {  // never scroll away from where a keyboard user is working
    var active = document.activeElement;
    return !!(active && active.closest && active.closest(".turns") && active.matches(":focus-visible"));
  }

  function showInSide(link) {  // the current chapter, in view in its own box (never the page)
    if (!side || !besides.matches || side.matches(":hover, :focus-within")) return;
    var outer = side.getBoundingClientRect(), inner = link.getBoundingClientRect();
    if (inner.top < outer.top || inner.bottom > outer.bottom) {
      side.scrollTo({ top: side.scrollTop + inner.top - outer.top - outer.height / 3, behavior: behavior() });
    }
  }

  // Chapters and quotes are open beside the transcript on wide screens, folded on narrow ones.
  if (wide.matches) document.querySelectorAll(".side details.fold:not(.keys)").forEach(function (fold) {
    fold.open = true;
  });

  // ------------------------------------------------------------------ keyboard

  // One Tab stop a turn: its time. Its Cite link is one arrow key away (and stays a link for
  // a screen reader's reading keys and for pointers).
  document.querySelectorAll(".turns a.cite").forEach(function (link) { link.tabIndex = -1; });
  var transcriptTurns = document.querySelector(".turns");
  if (transcriptTurns) transcriptTurns.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return;
    var link = event.target.closest && event.target.closest("a");
    var turn = link && link.closest(".turn");
    if (!turn) return;
    var to = event.key === "ArrowRight" && link.classList.contains("time") ? turn.querySelector("a.cite") :
             event.key === "ArrowLeft" && link.classList.contains("cite") ? turn.querySelector("a.time") : null;
    if (to) { event.preventDefault(); to.focus(); }
  });

  var keys = document.querySelector("details.keys");
  var keysOn = stored("keyboard-shortcuts") !== "off";
  if (keys && player) {
    keys.hidden = false;
    var keysBox = keys.querySelector("input.keys-on");
    keysBox.checked = keysOn;
    keysBox.addEventListener("change", function () {
      keysOn = keysBox.checked;
      store("keyboard-shortcuts", keysOn ? "on" : "off");
    });
  }
  document.addEventListener("keydown", function (event) {
    if (!player || !keysOn || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.isContentEditable || (target.closest && target.closest("input, textarea, select"))) return;
    var key = event.key.toLowerCase();
    if (key === "k") player.toggle();
    else if (key === "j" || key === "l") { engaged = true; player.seek(Math.max(0, player.time() + (key === "j" ? -10 : 10)), false); }
    else return;
    event.preventDefault();
  });

  // ------------------------------------------------------------------ the players

  // <video> and <audio>.
  function html5(media) {
    function play() {
      var promise = media.play();  // inside the click, so browsers allow it
      if (promise && promise.catch) promise.catch(function () {});
    }
    return {
      seek: function (seconds, andPlay) {
        function go() { media.currentTime = seconds; }
        if (media.readyState >= 1) go(); else {
          media.addEventListener("loadedmetadata", go, { once: true });
          if (media.preload === "none") media.load();
        }
        if (andPlay) play();
      },
      toggle: function () { if (media.paused) play(); else media.pause(); },
      time: function () { return media.currentTime; },
      onTime: function (callback) {
        function report() { callback(media.currentTime, !media.paused); }
        media.addEventListener("timeupdate", report);
        media.addEventListener("seeked", report);
      },
      onState: function (callback) {
        media.addEventListener("play", function () { callback(true); });
        media.addEventListener("pause", function () { callback(false); });
      }
    };
  }

  // The YouTube embed: until the IFrame API is ready (or if it never loads), seeking
  // reloads the embed at the moment, which needs nothing but the iframe itself.
  function youTube(frame) {
    var api = null, ready = false, callbacks = [], states = [], timer = null, last = 0, isPlaying = false;
    function reload(seconds, play) {
      var url = new URL(frame.src);
      url.searchParams.set("start", String(Math.floor(seconds)));
      if (play) url.searchParams.set("autoplay", "1"); else url.searchParams.delete("autoplay");
      frame.src = url.toString();
      last = seconds;
    }
    function report(t, on) {
      last = t;
      callbacks.forEach(function (callback) { callback(t, on); });
    }
    var previous = window.onYouTubeIframeAPIReady;
    window.onYouTubeIframeAPIReady = function () {
      if (previous) previous();
      api = new window.YT.Player(frame, { events: {
        onReady: function () { ready = true; },
        onStateChange: function (event) {
          clearInterval(timer);
          var on = event.data === window.YT.PlayerState.PLAYING;
          if (on !== isPlaying) { isPlaying = on; states.forEach(function (callback) { callback(on); }); }
          if (on) timer = setInterval(function () { report(api.getCurrentTime(), true); }, 250);
          else if (ready) report(api.getCurrentTime(), false);
        }
      } });
    };
    var script = document.createElement("script");
    script.src = "https://www.youtube.com/iframe_api";
    script.async = true;
    document.head.appendChild(script);
    return {
      seek: function (seconds, play) {
        if (!ready) return reload(seconds, play);
        api.seekTo(seconds, true);
        if (play) api.playVideo();
        report(seconds, !!play);
      },
      toggle: function () {
        if (!ready) return reload(last, true);
        if (isPlaying) api.pauseVideo(); else api.playVideo();
      },
      time: function () { return ready ? api.getCurrentTime() : last; },
      onTime: function (callback) { callbacks.push(callback); },
      onState: function (callback) { states.push(callback); }
    };
  }
})();
