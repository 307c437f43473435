// Progressive enhancement for post pages. Without JavaScript every chapter, quote and
// transcript time is still a link to ?t=SECONDS. With it:
// - following such a link seeks the player in place and updates the address;
// - opening a page with ?t= starts the player there;
// - the turn and chapter being spoken are highlighted, and "Follow along" scrolls to them;
// - a YouTube embed is driven through the YouTube IFrame API, loaded only now.
(function () {
  "use strict";
  var element = document.getElementById("player");
  if (!element) return;
  var player = element.tagName === "IFRAME" ? youTube(element) : html5(element);

  // Times people write: 90, 90.5, 1:30, 1:02:03, 1m30s.
  function parseTime(text) {
    if (!text) return null;
    var m;
    if (/^\d+(\.\d+)?$/.test(text)) return parseFloat(text);
    if ((m = /^(?:(\d+):)?(\d+):(\d\d)$/.exec(text))) return (+m[1] || 0) * 3600 + +m[2] * 60 + +m[3];
    if ((m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text)) && text) return (+m[1] || 0) * 3600 + (+m[2] || 0) * 60 + (+m[3] || 0);
    return null;
  }

  // The moment a link points to on this page, or null for any other link.
  function timeOf(link) {
    if (link.dataset.t) return parseFloat(link.dataset.t);
    var url = new URL(link.href, location.href);
    if (url.origin !== location.origin || url.pathname !== location.pathname) return null;
    return parseTime(url.searchParams.get("t"));
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey ||
        event.shiftKey || event.altKey) return;  // let people open a moment in a new tab
    var link = event.target.closest && event.target.closest("a[href]");
    var seconds = link ? timeOf(link) : null;
    if (seconds === null) return;
    event.preventDefault();
    var url = new URL(location.href);
    url.searchParams.set("t", String(Math.floor(seconds)));
    url.hash = "";
    history.replaceState(null, "", url);
    player.seek(seconds, true);
  });

  var start = parseTime(new URLSearchParams(location.search).get("t"));
  if (start !== null) player.seek(start, false);

  // Highlight what is being said, in the transcript and in the chapter list.
  var turns = Array.prototype.slice.call(document.querySelectorAll(".turn[data-start]"));
  var chapters = Array.prototype.slice.call(document.querySelectorAll(".chapters a[href], nav[aria-label='Chapters'] a[href]"))
    .filter(function (a) { return timeOf(a) !== null; });
  var currentTurn = null, currentChapter = null;

  // "Follow along": a visible toggle, off when the reader asks for reduced motion.
  var follow = { on: false, button: document.querySelector("button.follow") };
  function reducedMotion() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }
  function keyboardInTranscript() {
    // Never scroll away from where a keyboard user is working.
    var active = document.activeElement;
    return !!(active && active.closest && active.closest(".turns") && active.matches(":focus-visible"));
  }
  if (follow.button && turns.length) {
    var saved = null;
    try { saved = localStorage.getItem("follow-along"); } catch (e) { /* storage may be blocked */ }
    follow.on = saved === null ? !reducedMotion() : saved === "on";
    follow.button.hidden = false;
    follow.button.setAttribute("aria-pressed", String(follow.on));
    follow.button.addEventListener("click", function () {
      follow.on = !follow.on;
      follow.button.setAttribute("aria-pressed", String(follow.on));
      try { localStorage.setItem("follow-along", follow.on ? "on" : "off"); } catch (e) { /* ignore */ }
    });
  }

  function last(items, startOf, t) {
    var found = null;
    for (var i = 0; i < items.length; i++) {
      if (startOf(items[i]) <= t + 0.05) found = items[i]; else break;
    }
    return found;
  }

  player.onTime(function (t, playing) {
    var turn = last(turns, function (li) { return parseFloat(li.dataset.start); }, t);
    if (turn !== currentTurn) {
      if (currentTurn) currentTurn.classList.remove("current");
      if (turn) turn.classList.add("current");
      currentTurn = turn;
      if (turn && playing && follow.on && !keyboardInTranscript()) {
        turn.scrollIntoView({ block: "center", behavior: reducedMotion() ? "auto" : "smooth" });
      }
    }
    var chapter = last(chapters, timeOf, t);
    if (chapter !== currentChapter) {
      if (currentChapter) { currentChapter.classList.remove("current"); currentChapter.removeAttribute("aria-current"); }
      if (chapter) { chapter.classList.add("current"); chapter.setAttribute("aria-current", "true"); }
      currentChapter = chapter;
    }
  });

  // <video> and <audio>.
  function html5(media) {
    return {
      seek: function (seconds, play) {
        function go() { media.currentTime = seconds; }
        if (media.readyState >= 1) go(); else media.addEventListener("loadedmetadata", go, { once: true });
        if (play) {
          var promise = media.play();  // inside the click, so browsers allow it
          if (promise && promise.catch) promise.catch(function () {});
        }
      },
      onTime: function (callback) {
        function report() { callback(media.currentTime, !media.paused); }
        media.addEventListener("timeupdate", report);
        media.addEventListener("seeked", report);
      }
    };
  }

  // The YouTube embed: until the IFrame API is ready (or if it never loads), seeking
  // reloads the embed at the moment, which needs nothing but the iframe itself.
  function youTube(frame) {
    var api = null, ready = false, callbacks = [], timer = null;
    function reload(seconds, play) {
      var url = new URL(frame.src);
      url.searchParams.set("start", String(Math.floor(seconds)));
      if (play) url.searchParams.set("autoplay", "1"); else url.searchParams.delete("autoplay");
      frame.src = url.toString();
    }
    function tick() {
      var t = api.getCurrentTime ? api.getCurrentTime() : 0;
      callbacks.forEach(function (callback) { callback(t, true); });
    }
    var previous = window.onYouTubeIframeAPIReady;
    window.onYouTubeIframeAPIReady = function () {
      if (previous) previous();
      api = new window.YT.Player(frame, { events: {
        onReady: function () { ready = true; },
        onStateChange: function (event) {
          clearInterval(timer);
          if (event.data === window.YT.PlayerState.PLAYING) timer = setInterval(tick, 500);
          else if (ready) callbacks.forEach(function (callback) { callback(api.getCurrentTime(), false); });
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
        callbacks.forEach(function (callback) { callback(seconds, !!play); });
      },
      onTime: function (callback) { callbacks.push(callback); }
    };
  }
})();
