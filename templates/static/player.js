// Progressive enhancement: without JavaScript every time is still a link to ?t=SECONDS.
// With it, following a time seeks the player in place, and ?t= starts the player there.
(function () {
  "use strict";
  var player = document.getElementById("player");
  if (!player || player.tagName === "IFRAME") return;

  function seek(seconds, play) {
    player.currentTime = seconds;
    if (play) player.play().catch(function () {});
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-t]");
    if (!link) return;
    event.preventDefault();
    var seconds = parseFloat(link.dataset.t);
    history.replaceState(null, "", "?t=" + Math.floor(seconds));
    seek(seconds, true);
  });

  var start = parseFloat(new URLSearchParams(location.search).get("t"));
  if (start >= 0) {
    if (player.readyState >= 1) seek(start, false);
    else player.addEventListener("loadedmetadata", function () { seek(start, false); }, { once: true });
  }

  // Highlight the turn being spoken.
  var turns = Array.prototype.slice.call(document.querySelectorAll(".turn[data-start]"));
  var current = null;
  player.addEventListener("timeupdate", function () {
    var t = player.currentTime, found = null;
    for (var i = 0; i < turns.length; i++) {
      if (parseFloat(turns[i].dataset.start) <= t) found = turns[i]; else break;
    }
    if (found === current) return;
    if (current) { current.classList.remove("current"); current.removeAttribute("aria-current"); }
    if (found) { found.classList.add("current"); found.setAttribute("aria-current", "true"); }
    current = found;
  });
})();
