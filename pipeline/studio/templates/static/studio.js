// The editor's studio, one interview: the player beside the transcript, every word playing
// from its moment and lit while it is said, the review queue, corrections saved as the
// editor's transcript.txt and card. Plain modules, no build step.
import { initEditor } from "./editor.js";
import { paragraph, wordAt } from "./model.js";
import { initPanels, initPublish } from "./panels.js";
import { initSaving } from "./saving.js";

const root = document.getElementById("studio");
const app = {
  slug: root.dataset.slug,
  csrf: document.querySelector('meta[name="studio-csrf"]').content,
  player: document.getElementById("player"),
};
window.studio = app;  // for the tests and the benchmark, which look inside

if (!document.getElementById("turns")) {
  initPublish(app);  // not transcribed yet: only publishing makes sense
} else {
  start().catch((error) => {
    const state = document.getElementById("save-state");
    state.textContent = `The studio could not start: ${error.message}`;
    state.className = "save-state error";
    throw error;
  });
}

async function start() {
  performance.mark("studio:start");
  const response = await fetch("data");
  const data = await response.json();
  performance.mark("studio:data");
  if (!response.ok) throw new Error(data.error || response.statusText);
  Object.assign(app, {
    data, owner: data.owner, versions: data.versions, people: data.people, tail: data.tail,
    paragraphs: data.paragraphs.map(paragraph), pendingCard: null, dirtyTranscript: false,
  });
  initPlayer(app);
  initEditor(app);
  initSaving(app);
  app.renderAll();
  performance.mark("studio:paragraphs");
  initPanels(app);
  app.afterEdit = afterEdit;
  buildTimeline();
  app.renderQueue();
  app.highlightSuspects();
  performance.mark("studio:queue");
  initKeys(app);
  initNames(app);
  if (matchMedia("(max-width: 63.99rem)").matches) {
    for (const details of document.querySelectorAll(".side details[open]")) details.open = false;
  }
  await app.restoreDraft();
  performance.mark("studio:ready");
  root.dataset.ready = "true";
}

// After the text of some paragraphs changed (all, when none are named): times, the queue
// and the draft follow.
function afterEdit(...touched) {
  app.edited = true;
  buildTimeline();
  app.suspectsAfterEdit(new Set(touched.length ? touched : app.paragraphs));
  app.changed();
}

// Every word in the order it is said (paragraphs follow the recording, so no sort is needed).
function buildTimeline() {
  app.timeline = [];
  for (const p of app.paragraphs) for (let i = 0; i < p.words.length; i++) {
    const w = p.words[i];
    app.timeline.push({ p, i, s: w.s, e: w.e });
  }
}

// --- the player -----------------------------------------------------------------------------

function initPlayer(app) {
  const player = app.player;
  const controls = document.getElementById("controls");
  if (!player) {
    app.seek = () => {};
    app.playSpan = () => {};
    app.typing = () => {};
    return;
  }
  controls.hidden = false;
  const play = document.getElementById("play");
  const speed = document.getElementById("speed");
  const pauseTyping = document.getElementById("pause-typing");
  let stopAt = null, resume = null, lit = null, frame = null;

  app.toggle = () => (player.paused ? player.play().catch(() => {}) : player.pause());
  app.seek = (seconds, andPlay) => {
    stopAt = null;
    player.currentTime = Math.max(0, seconds);
    if (andPlay) player.play().catch(() => {});
    light();
  };
  app.back = (seconds) => app.seek(player.currentTime - seconds, !player.paused);
  app.playSpan = (from, to) => { app.seek(from, true); stopAt = to; };
  app.rate = (step) => {
    const options = [...speed.options].map((o) => parseFloat(o.value));
    const at = options.indexOf(player.playbackRate);
    const next = options[Math.max(0, Math.min(options.length - 1, (at < 0 ? 2 : at) + step))];
    player.playbackRate = next;
    speed.value = String(next);
  };

  play.addEventListener("click", () => app.toggle());
  document.getElementById("back").addEventListener("click", () => app.back(5));
  speed.addEventListener("change", () => { player.playbackRate = parseFloat(speed.value); });
  player.addEventListener("play", () => { play.textContent = "Pause"; tick(); });
  player.addEventListener("pause", () => { play.textContent = "Play"; cancelAnimationFrame(frame); light(); });
  player.addEventListener("seeked", light);

  // Typing pauses the player; it goes on a moment after the typing stops.
  app.typing = () => {
    if (!pauseTyping.checked) return;
    if (!player.paused) { resume = true; player.pause(); }
    clearTimeout(app.typingTimer);
    app.typingTimer = setTimeout(() => {
      if (resume) { resume = null; player.play().catch(() => {}); }
    }, 1500);
  };

  function tick() {
    light();
    if (stopAt !== null && player.currentTime >= stopAt) { stopAt = null; player.pause(); }
    if (!player.paused) frame = requestAnimationFrame(tick);
  }

  // The word being said, lit in its paragraph (CSS highlights: the text itself is untouched).
  function light() {
    if (!app.timeline) return;
    const k = wordAt(app.timeline, player.currentTime);
    const at = app.timeline[k];
    if (at === lit) return;
    if (lit && lit.p.el) lit.p.el.classList.remove("current");
    lit = at;
    if (!at || !at.p.el.isConnected) return;
    at.p.el.classList.add("current");
    if (window.CSS && CSS.highlights) {
      const range = app.rangeOf(at.p, at.i, at.i + 1);
      if (range) CSS.highlights.set("current-word", new Highlight(range));
    }
    if (!player.paused && !document.activeElement.closest(".turns")) follow(at.p.el);
  }

  function follow(el) {  // keep the spoken paragraph in view, unless the editor is at work there
    const box = el.getBoundingClientRect();
    if (box.top < 0 || box.bottom > innerHeight) {
      el.scrollIntoView({ block: "center", behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
    }
  }
}

// --- keys: every action, with Alt (Option on a Mac), in the text or anywhere -----------------

function initKeys(app) {
  const actions = {
    KeyK: () => app.toggle && app.toggle(),
    KeyJ: () => app.back && app.back(5),
    KeyL: () => app.back && app.back(-5),
    Comma: () => app.rate && app.rate(-1),
    Period: () => app.rate && app.rate(1),
    KeyN: (event) => app.nextSuspect(event.shiftKey ? -1 : 1),
    KeyA: () => app.acceptCurrent(),
    KeyS: () => app.save(),
    Enter: () => {
      const p = document.activeElement.closest && document.activeElement.closest(".turn");
      if (p && app.seek) { const k = app.wordAtCaret(p.paragraph); if (k >= 0) app.seek(p.paragraph.words[k].s, true); }
    },
  };
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey || !actions[event.code]) return;
    event.preventDefault();
    actions[event.code](event);
  }, true);
}

// --- a new speaker's name, only on purpose ------------------------------------------------------

function initNames(app) {
  const dialog = document.getElementById("new-name");
  const input = document.getElementById("new-name-input");
  app.askName = () => new Promise((resolve) => {
    input.value = "";
    dialog.returnValue = "";
    dialog.showModal();
    dialog.addEventListener("close", () => {
      const name = input.value.split(/\s+/).filter(Boolean).join(" ");
      resolve(dialog.returnValue === "ok" && name ? name : null);
    }, { once: true });
  });
}
