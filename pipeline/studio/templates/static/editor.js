// The transcript as the editor works on it: one editable paragraph per speaker turn, with
// its time (plays from there), its speaker (chosen from the card's people), a chapter mark
// and a join button. Enter starts a new paragraph at the cursor; Backspace at a paragraph's
// start joins it to the one before. Edited text is lined up with the words' times when the
// editor pauses or leaves the paragraph (model.realign), never while typing.
import { clock, realign, tokenize } from "./model.js";


export function initEditor(app) {
  const list = document.getElementById("turns");
  const template = turnTemplate();

  app.paragraphOf = new WeakMap();  // word -> the paragraph it is in
  const own = (p) => { for (const w of p.words) app.paragraphOf.set(w, p); };

  app.renderAll = () => {
    const items = app.paragraphs.map(build);
    list.replaceChildren(...items);
  };
  app.rebuild = (p) => { const old = p.el; const fresh = build(p); old.replaceWith(fresh); return fresh; };
  app.refreshSpeakers = () => { for (const p of app.paragraphs) fillSpeakers(p); };
  app.commit = commit;
  app.commitAll = () => { for (const p of app.paragraphs) if (p.dirty) commit(p); };
  app.wordAtCaret = wordAtCaret;
  app.rangeOf = rangeOf;
  app.startOf = (p) => (p.words.length ? p.words[0].s : p.start || 0);

  function build(p) {
    const li = template.content.firstElementChild.cloneNode(true);
    p.el = li;
    li.paragraph = p;
    own(p);
    p.textEl = li.querySelector(".words");
    p.textEl.textContent = p.text;
    fillHead(p);
    fillSpeakers(p);
    fillChapter(p);
    return li;
  }

  function fillHead(p) {
    const at = clock(app.startOf(p));
    const time = p.el.querySelector("button.time");
    time.textContent = at;
    time.setAttribute("aria-label", `Play from ${at}`);
    p.textEl.setAttribute("aria-label", `Paragraph at ${at}${p.speaker ? `, ${p.speaker}` : ""}`);
    p.el.querySelector("select.speaker").setAttribute("aria-label", `Speaker of the paragraph at ${at}`);
    const join = p.el.querySelector("button.join");
    join.hidden = p === app.paragraphs[0];
    join.setAttribute("aria-label", `Join the paragraph at ${at} to the one above`);
    const mark = p.el.querySelector("button.chapter");
    mark.setAttribute("aria-pressed", String(Boolean(p.chapter)));
    mark.setAttribute("aria-label", `A chapter starts at ${at}`);
  }

  // The card's people (and names used), once; each paragraph's list is a copy of it.
  let names = null;
  function fillSpeakers(p) {
    const select = p.el.querySelector("select.speaker");
    if (!names || names.people !== app.people.join("\n")) {
      names = document.createDocumentFragment();
      names.people = app.people.join("\n");
      names.append(...app.people.map((name) => new Option(name, name)));
      const other = new Option("New name…", "");
      other.dataset.newName = "true";
      names.append(other);
    }
    select.replaceChildren(names.cloneNode(true));
    if (p.speaker && !app.people.includes(p.speaker)) select.prepend(new Option(p.speaker, p.speaker));
    if (!p.speaker) select.prepend(new Option("(no speaker)", ""));
    select.value = p.speaker || "";
    if (!p.speaker) select.selectedIndex = 0;
  }

  function fillChapter(p) {
    const old = p.el.querySelector(".chapter-start");
    if (old) old.remove();
    if (!p.chapter) return;
    const box = document.createElement("div");
    box.className = "chapter-start";
    const id = `chapter-${Math.random().toString(36).slice(2, 9)}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = `Chapter at ${clock(app.startOf(p))}`;
    const input = document.createElement("input");
    input.id = id;
    input.className = "chapter-title";
    input.value = p.chapter.title;
    input.placeholder = "Its title";
    input.autocomplete = "off";
    box.append(label, input);
    p.el.prepend(box);
  }
  app.fillChapter = fillChapter;
  app.fillHead = fillHead;

  // --- events, delegated from the list ---------------------------------------------------

  list.addEventListener("click", (event) => {
    const li = event.target.closest(".turn");
    if (!li) return;
    const p = li.paragraph;
    if (event.target.closest("button.time")) {
      app.seek(app.startOf(p), true);
    } else if (event.target.closest("button.chapter")) {
      app.toggleChapter(p);
    } else if (event.target.closest("button.join")) {
      join(p);
    } else if (event.target.closest(".words")) {
      const selection = getSelection();
      if (!selection.isCollapsed || event.detail > 1) return;  // selecting, not placing the cursor
      const k = wordAtCaret(p);
      if (k >= 0) app.seek(p.words[k].s, true);
    }
  });

  list.addEventListener("change", (event) => {
    const select = event.target.closest("select.speaker");
    if (!select) return;
    const p = select.closest(".turn").paragraph;
    if (!select.selectedOptions[0].dataset.newName) {
      setSpeaker(p, select.value || null);
      return;
    }
    app.askName().then((name) => {
      if (name && !app.people.includes(name)) app.people.push(name);
      if (name) setSpeaker(p, name);
      fillSpeakers(p);
      select.focus();
    });
  });

  list.addEventListener("input", (event) => {
    const title = event.target.closest("input.chapter-title");
    if (title) {
      title.closest(".turn").paragraph.chapter.title = title.value;
      app.chaptersChanged(true);
      return;
    }
    const el = event.target.closest(".words");
    if (!el) return;
    const p = el.closest(".turn").paragraph;
    p.dirty = true;
    app.typing(p);
    clearTimeout(p.commitTimer);  // line the words up once the editor pauses
    p.commitTimer = setTimeout(() => { if (p.dirty) commit(p); }, 500);
  });

  list.addEventListener("focusout", (event) => {
    const el = event.target.closest(".words");
    if (el && el.closest(".turn").paragraph.dirty) commit(el.closest(".turn").paragraph);
  });

  list.addEventListener("keydown", (event) => {
    const el = event.target.closest(".words");
    if (!el || event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
    const p = el.closest(".turn").paragraph;
    const selection = getSelection();
    if (event.key === "Enter") {
      event.preventDefault();
      split(p, caretOffset(el));
    } else if (event.key === "Backspace" && selection.isCollapsed && caretOffset(el) === 0
               && p !== app.paragraphs[0]) {
      event.preventDefault();
      join(p);
    } else if (event.key === "Delete" && selection.isCollapsed && caretOffset(el) === el.textContent.length) {
      const i = app.paragraphs.indexOf(p);
      if (i < app.paragraphs.length - 1) { event.preventDefault(); join(app.paragraphs[i + 1]); }
    }
  });

  // Browsers without contenteditable="plaintext-only" would paste formatted text.
  list.addEventListener("paste", (event) => {
    if (!event.target.closest(".words") || event.target.closest(".words").contentEditable === "plaintext-only") return;
    event.preventDefault();
    document.execCommand("insertText", false, event.clipboardData.getData("text/plain"));
  });

  // --- editing ----------------------------------------------------------------------------

  function setSpeaker(p, name) {
    p.speaker = name;
    fillHead(p);
    app.changed();
  }

  // Line the paragraph's words up with its text as edited; drop it when nothing is left.
  function commit(p) {
    const text = p.textEl.textContent.split(/\s+/).filter(Boolean).join(" ");
    p.dirty = false;
    if (text === p.text) return;
    p.words = realign(p.words, text);
    p.text = text;
    own(p);
    if (!text && app.paragraphs.length > 1) {
      remove(p);
    } else {
      fillHead(p);
    }
    app.afterEdit(p);
  }

  function remove(p) {
    const i = app.paragraphs.indexOf(p);
    app.paragraphs.splice(i, 1);
    p.el.remove();
    const next = app.paragraphs[Math.min(i, app.paragraphs.length - 1)];
    if (next) fillHead(next);
  }

  function split(p, offset) {
    const raw = p.textEl.textContent;
    const left = raw.slice(0, offset), right = raw.slice(offset);
    const whole = raw.split(/\s+/).filter(Boolean).join(" ");
    const words = whole === p.text ? p.words : realign(p.words, whole);
    const n = tokenize(left).length;
    const straddles = /\S$/.test(left) && /^\S/.test(right);
    const before = words.slice(0, n), after = words.slice(straddles ? n - 1 : n);
    if (straddles) {  // the cursor is inside a word: both halves take its time
      const w = words[n - 1];
      before[n - 1] = { t: tokenize(left).at(-1).t, s: w.s, e: w.e, typed: true };
      after[0] = { t: tokenize(right)[0].t, s: w.s, e: w.e, typed: true };
    }
    const i = app.paragraphs.indexOf(p);
    const previous = app.paragraphs.slice(0, i + 1).reverse().find((q) => q.start !== null);
    const at = after.length ? after[0].s : (before.length ? before.at(-1).e : app.startOf(p));
    const q = { start: Math.max(at, previous ? previous.start : 0), speaker: p.speaker, comments: [],
                text: right.split(/\s+/).filter(Boolean).join(" "), words: after };
    p.text = left.split(/\s+/).filter(Boolean).join(" ");
    p.words = before;
    p.dirty = false;
    app.paragraphs.splice(i + 1, 0, q);
    p.textEl.textContent = p.text;
    own(p);
    p.el.after(build(q));
    fillHead(p);
    app.afterEdit(p, q);
    q.textEl.focus();
    placeCaret(q.textEl, 0);
  }

  function join(q) {
    const i = app.paragraphs.indexOf(q);
    if (i <= 0) return;
    const p = app.paragraphs[i - 1];
    if (p.dirty) commit(p);
    if (q.dirty) commit(q);
    if (!app.paragraphs.includes(q)) return;  // it was emptied and removed
    const at = p.text.length + (p.text && q.text ? 1 : 0);
    p.text = [p.text, q.text].filter(Boolean).join(" ");
    p.words = p.words.concat(q.words);
    p.comments = p.comments.concat(q.comments);
    app.paragraphs.splice(i, 1);
    q.el.remove();
    p.textEl.textContent = p.text;
    own(p);
    fillHead(p);
    app.afterEdit(p, q);
    p.textEl.focus();
    placeCaret(p.textEl, at);
  }

  // --- positions in an editable paragraph ----------------------------------------------------

  function caretOffset(el) {
    const selection = getSelection();
    if (!selection.rangeCount || !el.contains(selection.anchorNode)) return 0;
    const range = document.createRange();
    range.selectNodeContents(el);
    range.setEnd(selection.anchorNode, selection.anchorOffset);
    return range.toString().length;
  }

  function wordAtCaret(p) {
    const offset = caretOffset(p.textEl);
    const tokens = tokenize(p.textEl.textContent);
    let k = tokens.findIndex((tok) => offset <= tok.b);
    if (k < 0) k = tokens.length - 1;
    return Math.min(k, p.words.length - 1);
  }

  function position(el, offset) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let node, left = offset;
    while ((node = walker.nextNode())) {
      if (left <= node.length) return [node, left];
      left -= node.length;
    }
    return [el, el.childNodes.length];
  }

  function placeCaret(el, offset) {
    const [node, at] = position(el, offset);
    const range = document.createRange();
    range.setStart(node, at);
    range.collapse(true);
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // A Range over words [first, end) of a paragraph, as its text reads now.
  function rangeOf(p, first, end) {
    const text = p.textEl.textContent;
    if (p.tokensOf !== text) { p.tokens = tokenize(text); p.tokensOf = text; }
    const tokens = p.tokens;
    if (!tokens.length || first >= tokens.length) return null;
    const last = tokens[Math.min(end, tokens.length) - 1];
    const range = document.createRange();
    range.setStart(...position(p.textEl, tokens[first].a));
    range.setEnd(...position(p.textEl, last.b));
    return range;
  }
}

function turnTemplate() {
  const template = document.createElement("template");
  template.innerHTML = `<li class="turn"><div class="turn-head"><button type="button" class="time"></button>
<select class="speaker"></select>
<span class="tools"><button type="button" class="chapter" aria-pressed="false">Chapter</button><button type="button" class="join">Join above</button></span></div>
<p class="words" contenteditable="plaintext-only" role="textbox" aria-multiline="true" spellcheck="true"></p></li>`;
  const words = template.content.querySelector(".words");
  if (words.contentEditable !== "plaintext-only") words.setAttribute("contenteditable", "true");
  return template;
}
