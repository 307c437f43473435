// The side panels: the review queue, reviewed and publish, chapters, pull quotes, voices.
import { clock } from "./model.js";

export function initPanels(app) {
  initQueue(app);
  initReview(app);
  initChapters(app);
  initQuotes(app);
  initVoices(app);
}

// --- the review queue ------------------------------------------------------------------------

function initQueue(app) {
  const list = document.getElementById("queue");
  const count = document.getElementById("queue-count");
  const buttons = document.getElementById("queue-buttons");
  const secondState = document.getElementById("second-state");

  // Each suspect holds on to its words, so edits elsewhere never move it; editing any of
  // its words fixes it. Only the paragraphs an edit touched are looked at again.
  const place = (s) => {
    const words = app.paragraphs[s.paragraph].words.slice(s.first, s.end);
    return { ...s, words, text: words.map((w) => w.t).join(" "), para: app.paragraphs[s.paragraph] };
  };
  app.suspects = app.data.suspects.map(place);
  app.current = -1;
  const SHOWN = 40;  // list items at first; the rest on request (a 2-hour interview has hundreds)
  let shown = SHOWN;
  const ranges = new Map();  // suspect -> its Range in the text, for the "suspect" highlight
  const highlight = window.Highlight ? new Highlight() : null;
  if (highlight) CSS.highlights.set("suspect", highlight);

  function where(s) {
    const p = app.paragraphOf.get(s.words[0]);
    if (!p || !p.el.isConnected) return null;
    const first = p.words.indexOf(s.words[0]);
    const intact = first >= 0 && s.words.every((w, k) => p.words[first + k] === w);
    return intact ? { p, first, end: first + s.words.length } : null;
  }
  app.whereSuspect = where;

  app.renderQueue = () => {
    const open = app.suspects.filter((s) => !s.done);
    count.textContent = open.length ? `(${open.length})` : "(none left)";
    buttons.hidden = !open.length;
    const items = open.slice(0, shown).map((s) => item(s));
    if (open.length > shown) {
      const more = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "more";
      button.textContent = `Show ${Math.min(SHOWN * 5, open.length - shown)} more of ${open.length - shown}`;
      more.append(button);
      items.push(more);
    }
    list.replaceChildren(...items);
  };

  // The highlight of every open suspect in the given paragraphs (all at first).
  app.highlightSuspects = (touched = null) => {
    if (!highlight) return;
    for (const s of app.suspects) {
      if (touched && !touched.has(s.para)) continue;
      const old = ranges.get(s);
      if (old) { highlight.delete(old); ranges.delete(s); }
      const at = !s.done && where(s);
      if (!at) continue;
      s.para = at.p;
      const range = app.rangeOf(at.p, at.first, at.end);
      if (range) { ranges.set(s, range); highlight.add(range); }
    }
  };

  function item(s) {
    const li = document.createElement("li");
    li.suspect = s;
    if (app.suspects[app.current] === s) li.className = "current";
    const go = document.createElement("button");
    go.type = "button";
    go.className = "go";
    const t = document.createElement("span");
    t.className = "t";
    t.textContent = clock(s.start);
    go.append(t, `“${s.words.map((w) => w.t).join(" ")}”`);
    go.setAttribute("aria-label", `At ${clock(s.start)}: ${s.words.map((w) => w.t).join(" ")}. Play it and select it`);
    const why = document.createElement("span");
    why.className = "why";
    why.textContent = s.reasons.join("; ");
    const acts = document.createElement("span");
    acts.className = "acts";
    if (s.heard) {
      const use = document.createElement("button");
      use.type = "button";
      use.className = "use";
      use.textContent = `Use “${s.heard}”`;
      acts.append(use);
    }
    const accept = document.createElement("button");
    accept.type = "button";
    accept.className = "accept";
    accept.textContent = "Accept";
    accept.setAttribute("aria-label", `Accept “${s.words.map((w) => w.t).join(" ")}” as heard`);
    acts.append(accept);
    li.append(go, why, acts);
    return li;
  }

  list.addEventListener("click", (event) => {
    const li = event.target.closest("li");
    if (!li) return;
    if (event.target.closest("button.more")) {
      shown += SHOWN * 5;
      app.renderQueue();
      list.children[shown - SHOWN * 5]?.querySelector("button")?.focus();
      return;
    }
    const s = li.suspect;
    if (event.target.closest("button.go")) goTo(app.suspects.indexOf(s));
    else if (event.target.closest("button.accept")) accept(s);
    else if (event.target.closest("button.use")) use(s);
  });
  document.getElementById("next-suspect").addEventListener("click", () => app.nextSuspect(1));
  document.getElementById("accept-suspect").addEventListener("click", () => {
    const s = app.suspects[app.current];
    if (s && !s.done) accept(s); else app.nextSuspect(1);
  });

  function goTo(index) {
    const s = app.suspects[index];
    const at = s && where(s);
    if (!at) return;
    app.current = index;
    for (const li of list.children) li.classList.toggle("current", li.suspect === s);
    const li = [...list.children].find((x) => x.suspect === s);
    if (li) li.scrollIntoView({ block: "nearest" });
    at.p.textEl.focus({ preventScroll: true });
    const range = app.rangeOf(at.p, at.first, at.end);
    if (range) {
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    at.p.el.scrollIntoView({ block: "center" });
    app.playSpan(Math.max(0, s.start - 1.0), s.stop + 0.5);
  }

  app.nextSuspect = (step) => {
    const open = app.suspects.map((s, i) => [s, i]).filter(([s]) => !s.done && where(s));
    if (!open.length) return;
    const at = open.findIndex(([, i]) => i === app.current);
    const next = at < 0 ? (step > 0 ? 0 : open.length - 1) : (at + step + open.length) % open.length;
    goTo(open[next][1]);
  };

  app.acceptCurrent = () => {
    const s = app.suspects[app.current];
    if (s && !s.done) accept(s);
  };

  function accept(s) {
    s.done = "accepted";
    app.post("review", { accept: [s.key] });
    const index = app.suspects.indexOf(s);
    app.renderQueue();
    app.highlightSuspects(new Set([s.para]));
    if (index === app.current) app.nextSuspect(1);
  }

  function use(s) {
    const at = where(s);
    if (!at) return;
    const tokens = at.p.text.split(" ");
    tokens.splice(at.first, at.end - at.first, ...s.heard.split(/\s+/));
    at.p.textEl.textContent = tokens.join(" ");
    at.p.dirty = true;
    app.commit(at.p);
  }

  // After an edit of these paragraphs: a suspect whose words changed is fixed.
  app.suspectsAfterEdit = (touched) => {
    let fixed = false;
    for (const s of app.suspects) {
      if (!s.done && touched.has(s.para) && !where(s)) { s.done = "fixed"; fixed = true; }
    }
    app.highlightSuspects(touched);
    if (fixed) app.renderQueue();
  };

  const second = {
    "done": "A second recogniser (Whisper base) listened too: where it heard otherwise is on the list.",
    "running": "A second recogniser (Whisper base) is listening to the interview, to find more places to check; the list grows when it is done.",
    "not installed": "Install the second recogniser (make edit) and more of the recogniser's mistakes are found.",
  };
  secondState.textContent = second[app.data.second] || "";
  if (app.data.second === "missing" || app.data.second === "running") {
    app.post("second", {}).then(() => { secondState.textContent = second.running; watchSecond(); });
  } else if (app.data.second && app.data.second.startsWith("failed")) {
    secondState.textContent = `The second recogniser failed: ${app.data.second.slice(8)}`;
  }

  function watchSecond() {
    setTimeout(async () => {
      const response = await fetch("data");
      if (!response.ok) return;
      const data = await response.json();
      if (data.second === "running" || data.second === "missing") return watchSecond();
      secondState.textContent = second[data.second] || `The second recogniser failed: ${data.second.slice(8)}`;
      if (data.second !== "done") return;
      if (app.dirtyTranscript || app.edited) {
        secondState.textContent += " Reload the page to see its places to check.";
        return;
      }
      const done = new Set(app.suspects.filter((s) => s.done).map((s) => s.key));
      for (const s of app.suspects) s.done = s.done || "replaced";
      app.highlightSuspects();
      app.suspects = data.suspects.filter((s) => !done.has(s.key)).map(place);
      app.current = -1;
      app.renderQueue();
      app.highlightSuspects();
    }, 5000);
  }
}

// --- reviewed and publish ---------------------------------------------------------------------

function initReview(app) {
  const reviewed = document.getElementById("reviewed");
  reviewed.disabled = false;
  reviewed.addEventListener("change", async () => {
    if (!(await app.saveCard({ reviewed: reviewed.checked }))) reviewed.checked = !reviewed.checked;
  });
  initPublish(app);
}

export function initPublish(app) {
  const button = document.getElementById("publish");
  const state = document.getElementById("publish-state");
  const log = document.getElementById("publish-log");
  button.hidden = false;

  function shown(job) {
    if (!job || job.state === "none") return;
    log.hidden = !job.lines.length;
    log.textContent = job.lines.join("\n");
    log.scrollTop = log.scrollHeight;
    if (job.state === "running") {
      state.textContent = "Publishing…";
      return;
    }
    button.disabled = false;
    if (job.state === "published") {
      state.replaceChildren(`Published (${job.message}). `, link(job.page, "Open the page"), " · ",
                            link("/site/search/", "Search the site"));
    } else {
      state.textContent = `Not published: ${job.message}`;
    }
  }

  function link(href, text) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  async function watch() {
    const response = await fetch("publish");
    const job = await response.json();
    shown(job);
    if (job.state === "running") setTimeout(watch, 700);
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    if (app.flush && !(await app.flush())) {
      state.textContent = "Not published: your changes are not saved yet (see above).";
      button.disabled = false;
      return;
    }
    state.textContent = "Publishing…";
    const response = await app.post("publish", {});
    if (!response) { button.disabled = false; return; }
    const job = await response.json();
    shown(job);
    if (job.state === "running") setTimeout(watch, 700);
  });
  if (app.data && app.data.publish) shown(app.data.publish);
  if (app.data && app.data.publish && app.data.publish.state === "running") watch();
}

// --- chapters ----------------------------------------------------------------------------------

function initChapters(app) {
  const list = document.getElementById("chapter-list");
  const hint = document.getElementById("chapters-hint");
  const auto = document.getElementById("chapters-auto");
  let fromCard = app.data.chapters.from_card, timer = null;

  // Each chapter to the paragraph it starts in.
  for (const chapter of app.data.chapters.items) {
    let host = app.paragraphs[0];
    for (const p of app.paragraphs) if (app.startOf(p) <= chapter.start + 0.5) host = p;
    if (host && !host.chapter) host.chapter = { title: chapter.title, start: chapter.start };
  }

  function render() {
    const marked = app.paragraphs.filter((p) => p.chapter);
    hint.textContent = fromCard
      ? "Your chapters (on the card). Mark a paragraph with its Chapter button to start one there."
      : marked.length ? "The automatic chapters. Change a title or mark a paragraph, and they become yours (on the card)."
        : "No chapters yet. Mark a paragraph with its Chapter button to start one there.";
    auto.hidden = !fromCard;
    list.replaceChildren(...marked.map((p) => {
      const li = document.createElement("li");
      const go = document.createElement("button");
      go.type = "button";
      go.className = "go";
      go.textContent = `${clock(app.startOf(p))} ${p.chapter.title || "(no title yet)"}`;
      go.addEventListener("click", () => {
        p.el.scrollIntoView({ block: "center" });
        const input = p.el.querySelector("input.chapter-title");
        if (input) input.focus();
        app.seek(app.startOf(p), false);
      });
      li.append(go);
      return li;
    }));
  }

  app.toggleChapter = (p) => {
    p.chapter = p.chapter ? null : { title: "" };
    app.fillChapter(p);
    app.fillHead(p);
    if (p.chapter) p.el.querySelector("input.chapter-title").focus();
    app.chaptersChanged(false);
  };

  app.chaptersChanged = (typing) => {
    render();
    clearTimeout(timer);
    timer = setTimeout(save, typing ? 900 : 50);
  };

  async function save() {
    const marked = app.paragraphs.filter((p) => p.chapter);
    if (marked.length && !app.paragraphs[0].chapter) {  // players and YouTube need one at 0:00
      app.paragraphs[0].chapter = { title: "Introduction" };
      app.fillChapter(app.paragraphs[0]);
      app.fillHead(app.paragraphs[0]);
      marked.unshift(app.paragraphs[0]);
    }
    if (marked.some((p) => !p.chapter.title.trim())) {
      hint.textContent = "Give every chapter a title; the chapters are saved once each has one.";
      return;
    }
    const items = marked.map((p, n) => ({ start: n === 0 ? "0:00" : clock(app.startOf(p)), title: p.chapter.title.trim() }));
    if (await app.saveCard({ chapters: items })) { fromCard = items.length > 0; render(); }
  }

  auto.addEventListener("click", async () => {
    if (await app.saveCard({ chapters: [] })) {
      for (const p of app.paragraphs) { p.chapter = null; app.fillChapter(p); app.fillHead(p); }
      fromCard = false;
      render();
      hint.textContent = "Back to the automatic chapters: publish to see them.";
    }
  });
  render();
}

// --- pull quotes ---------------------------------------------------------------------------------

function initQuotes(app) {
  const list = document.getElementById("quote-list");
  const pinSelection = document.getElementById("pin-selection");
  const quotes = app.data.quotes;
  let pin = [...quotes.pin], drop = [...quotes.drop];
  const same = (a, b) => a.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "") === b.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");

  function render() {
    const shown = quotes.shown.map((q) => q.text);
    const texts = [...new Set([...shown, ...pin.filter((t) => !shown.some((s) => same(s, t))), ...drop])];
    list.replaceChildren(...texts.map((text) => {
      const li = document.createElement("li");
      const dropped = drop.some((t) => same(t, text));
      const pinned = pin.some((t) => same(t, text));
      if (dropped) li.className = "dropped";
      const block = document.createElement("blockquote");
      block.textContent = text;
      const buttons = document.createElement("span");
      buttons.className = "buttons";
      const pinButton = document.createElement("button");
      pinButton.type = "button";
      pinButton.textContent = "Pin";
      pinButton.setAttribute("aria-pressed", String(pinned));
      pinButton.setAttribute("aria-label", `Pin the quote “${text.slice(0, 60)}”`);
      pinButton.addEventListener("click", () => change(pinned ? { unpin: text } : { pin: text }));
      const dropButton = document.createElement("button");
      dropButton.type = "button";
      dropButton.textContent = dropped ? "Show it again" : "Drop";
      dropButton.setAttribute("aria-label", `${dropped ? "Show again" : "Drop"} the quote “${text.slice(0, 60)}”`);
      dropButton.addEventListener("click", () => change(dropped ? { undrop: text } : { drop: text }));
      buttons.append(pinButton, dropButton);
      li.append(block, buttons);
      return li;
    }));
  }

  async function change(what) {
    const before = [pin, drop];
    if (what.pin) { pin = [...pin, what.pin]; drop = drop.filter((t) => !same(t, what.pin)); }
    if (what.unpin) pin = pin.filter((t) => !same(t, what.unpin));
    if (what.drop) { drop = [...drop, what.drop]; pin = pin.filter((t) => !same(t, what.drop)); }
    if (what.undrop) drop = drop.filter((t) => !same(t, what.undrop));
    if (!(await app.saveCard({ quotes: { pin, drop } }))) [pin, drop] = before;
    render();
  }

  function selected() {
    const selection = getSelection();
    if (selection.isCollapsed || !selection.rangeCount) return "";
    const el = selection.getRangeAt(0).commonAncestorContainer;
    const words = (el.nodeType === 1 ? el : el.parentElement).closest(".words");
    return words ? selection.toString().split(/\s+/).filter(Boolean).join(" ") : "";
  }
  document.addEventListener("selectionchange", () => { pinSelection.hidden = !selected(); });
  pinSelection.addEventListener("mousedown", (event) => event.preventDefault());  // keep the selection
  pinSelection.addEventListener("click", () => { const text = selected(); if (text) change({ pin: text }); });
  render();
}

// --- voices ------------------------------------------------------------------------------------------

function initVoices(app) {
  const panel = document.getElementById("voices-panel");
  const list = document.getElementById("voice-list");
  if (app.owner !== "machine" || app.data.voices.length < 2) return;
  panel.hidden = false;
  list.replaceChildren(...app.data.voices.map((voice) => {
    const li = document.createElement("li");
    const id = `voice-${voice.id}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = `${voice.id.replace("SPEAKER_", "Voice ")} (${Math.round(voice.seconds)} s)`;
    const select = document.createElement("select");
    select.id = id;
    const names = [...new Set([...app.people, voice.name])];
    select.append(...names.map((n) => new Option(n, n, false, n === voice.name)));
    select.addEventListener("change", async () => {
      const mapping = Object.fromEntries(app.data.voices.map((v) => [v.id, v.id === voice.id ? select.value : v.name]));
      if (await app.saveCard({ speakers: mapping })) location.reload();
    });
    li.append(label, select);
    return li;
  }));
}
