// Saving: no edit is ever lost. Every change is kept as a draft in this browser
// (localStorage) within a moment, then saved to transcript.txt (or the card); the draft is
// cleared only when the server confirms what it holds. A file that changed on disk since
// the studio loaded it is never overwritten: the server answers with the difference and the
// editor chooses. A draft left by a closed tab is restored, or shown as a conflict when the
// file changed meanwhile.
import { realign } from "./model.js";

const SAVE_AFTER = 1200;  // ms after the last change
const DRAFT_EVERY = 700;  // ms: the draft is the whole transcript, so not at every key

export function initSaving(app) {
  const key = `pipeline-studio:${app.slug}`;
  const state = document.getElementById("save-state");
  const dialog = document.getElementById("conflict");
  // revision: changes made so far; saved: the revision the file holds. blocked: why saving
  // waits ("refused" until the next edit, "conflict" until the editor chooses).
  let timer = null, saving = null, again = false, blocked = null, revision = 0, saved = 0;
  let draftTimer = null, draftAt = 0;

  function show(text, kind = "") {
    state.textContent = text;
    state.className = `save-state ${kind}`;
  }

  function payload() {
    return {
      paragraphs: app.paragraphs.map((p) => ({ start: p.start, speaker: p.speaker, text: p.text,
                                               comments: p.comments })),
      tail: app.tail,
    };
  }

  function keepDraft() {
    clearTimeout(draftTimer);
    draftTimer = null;
    draftAt = Date.now();
    const draft = { version: app.versions.transcript, at: draftAt, card: app.pendingCard || null,
                    cardVersion: app.versions.card, ...(revision !== saved ? payload() : {}) };
    try {
      localStorage.setItem(key, JSON.stringify(draft));
    } catch (error) {
      show("Not kept in this browser (its storage is full or blocked); saving to the file…", "unsaved");
    }
  }

  function keepDraftSoon() {
    if (!draftTimer) draftTimer = setTimeout(keepDraft, Math.max(0, DRAFT_EVERY - (Date.now() - draftAt)));
  }

  function dropDraft() {
    clearTimeout(draftTimer);
    draftTimer = null;
    if (app.pendingCard) return keepDraft();
    try { localStorage.removeItem(key); } catch (error) { /* nothing kept */ }
  }

  Object.defineProperty(app, "dirtyTranscript", { get: () => revision !== saved, configurable: true });

  app.changed = () => {
    revision++;
    if (blocked === "refused") blocked = null;  // the editor may have fixed what was refused
    keepDraftSoon();
    if (!blocked) show("Unsaved changes, kept in this browser", "unsaved");
    clearTimeout(timer);
    timer = setTimeout(() => app.save(), SAVE_AFTER);
  };

  app.save = async (force = false) => {
    app.commitAll();
    clearTimeout(timer);
    if (blocked === "conflict" && !force) return askAgain();
    if (blocked && !force) return;
    if (saving) { again = true; return saving; }
    const sending = revision;
    const body = JSON.stringify({ ...payload(), version: app.versions.transcript, force });
    show("Saving…");
    saving = (async () => {
      const response = await app.post("transcript", body);
      if (!response) return;
      const result = await response.json();
      if (response.status === 409) return conflict(result, "transcript");
      if (response.status === 422) {
        blocked = "refused";
        show(`Not saved: ${result.refused}`, "error");
        return;
      }
      if (!response.ok) { show(`Not saved: ${result.error || response.statusText}`, "error"); return; }
      blocked = null;
      app.versions.transcript = result.version;
      app.owner = result.owner;
      saved = sending;
      if (revision === saved) {
        dropDraft();
        show(result.written ? `Saved to transcript.txt at ${new Date().toLocaleTimeString()}` : "Nothing changed");
      } else {
        keepDraftSoon();
      }
    })();
    try { await saving; } finally {
      saving = null;
      if (again) { again = false; app.save(); }
    }
  };

  app.flush = async () => {
    if (app.dirtyTranscript || app.paragraphs.some((p) => p.dirty)) await app.save();
    return !app.dirtyTranscript && !blocked;
  };

  app.post = async (path, body) => {
    try {
      return await fetch(path, { method: "POST", headers: { "Content-Type": "application/json",
                                                            "X-Studio-CSRF": app.csrf },
                                 body: typeof body === "string" ? body : JSON.stringify(body) });
    } catch (error) {
      show("Not saved: the studio does not answer (is `pipeline edit` still running?). Your changes are kept in this browser.", "error");
      keepDraft();
      clearTimeout(timer);
      timer = setTimeout(() => app.save(), 5000);
      return null;
    }
  };

  // The card: small changes, saved at once.
  app.saveCard = async (changes, force = false) => {
    app.pendingCard = { ...(app.pendingCard || {}), ...changes };
    keepDraft();
    const response = await app.post("card", { changes: app.pendingCard, version: app.versions.card, force });
    if (!response) return false;
    const result = await response.json();
    if (response.status === 409) { conflict(result, "card"); return false; }
    if (!response.ok) {
      show(`The card was not saved: ${result.refused || result.error || response.statusText}`, "error");
      app.pendingCard = null;
      keepDraft();
      return false;
    }
    app.versions.card = result.version;
    app.pendingCard = null;
    if (app.dirtyTranscript) keepDraft(); else dropDraft();
    show(`Saved to the card at ${new Date().toLocaleTimeString()}`);
    return true;
  };

  function conflict(result, what) {
    blocked = "conflict";
    show(`Not saved: ${result.conflict} changed on disk since the studio opened it.`, "error");
    keepDraft();
    const lines = result.diff.length ? result.diff : ["(the files read the same)"];
    document.getElementById("conflict-diff").replaceChildren(...lines.map((line) => {
      const span = document.createElement("span");
      span.className = line.startsWith("+") && !line.startsWith("+++") ? "add"
                     : line.startsWith("-") && !line.startsWith("---") ? "del" : "";
      span.textContent = line + "\n";
      return span;
    }));
    document.getElementById("conflict-text").textContent = what === "card"
      ? "Someone changed the card (interview.yaml) since the studio loaded it. Your change can be made to the card as it is now, or left out."
      : "Someone changed transcript.txt (in a text editor, or by publishing) since the studio loaded it. Nothing was overwritten. Here is how your version differs from the file:";
    document.getElementById("conflict-mine").textContent = what === "card" ? "Make my change to the card as it is now" : "Keep my version (overwrite the file)";
    document.getElementById("conflict-disk").textContent = what === "card" ? "Leave my change out" : "Use the file on disk (drop my changes)";
    dialog.dataset.what = what;
    dialog.dataset.version = result.version || "";
    if (!dialog.open) dialog.showModal();
  }

  function askAgain() {  // Alt+S, or the next autosave, after "decide later"
    if (!dialog.open) dialog.showModal();
  }

  document.getElementById("conflict-mine").addEventListener("click", async () => {
    dialog.close();
    blocked = null;
    if (dialog.dataset.what === "card") {
      app.versions.card = dialog.dataset.version;
      await app.saveCard({}, true);
    } else {
      app.versions.transcript = dialog.dataset.version || null;
      await app.save(true);
    }
  });
  document.getElementById("conflict-disk").addEventListener("click", () => {
    dialog.close();
    if (dialog.dataset.what === "card") app.pendingCard = null;
    else saved = revision;
    dropDraft();
    location.reload();
  });
  document.getElementById("conflict-later").addEventListener("click", () => {
    dialog.close();
    show(`Not saved: ${dialog.dataset.what === "card" ? "the card" : "transcript.txt"} changed on disk. ` +
         "Your changes are kept in this browser; press Alt+S to choose.", "error");
  });

  // A draft from an earlier visit: restore it, or let the server say it is a conflict.
  app.restoreDraft = async () => {
    let draft = null;
    try { draft = JSON.parse(localStorage.getItem(key) || "null"); } catch (error) { draft = null; }
    if (!draft) return;
    const text = Array.isArray(draft.paragraphs) && JSON.stringify(draft.paragraphs);
    if (text && text !== JSON.stringify(payload().paragraphs)) {
      restoreParagraphs(draft);
      app.renderAll();
      app.afterEdit();
      show(`Restored the changes this browser kept from ${new Date(draft.at).toLocaleString()}`, "unsaved");
      app.versions.transcript = draft.version;  // so a file changed since is a conflict
      await app.save();
    }
    if (draft.card && Object.keys(draft.card).length) {
      app.versions.card = draft.cardVersion || app.versions.card;
      await app.saveCard(draft.card);
    }
    if (!app.dirtyTranscript && !app.pendingCard && !blocked) dropDraft();
  };

  // The draft's paragraphs, their words timed from the words loaded now.
  function restoreParagraphs(draft) {
    const old = app.paragraphs.flatMap((p) => p.words);
    const words = realign(old, draft.paragraphs.map((p) => p.text).join(" "));
    let at = 0;
    app.paragraphs = draft.paragraphs.map((d) => {
      const count = d.text.split(/\s+/).filter(Boolean).length;
      const p = { start: d.start, speaker: d.speaker, comments: d.comments || [], text: d.text,
                  words: words.slice(at, at + count) };
      at += count;
      return p;
    });
  }

  window.addEventListener("beforeunload", (event) => {
    app.commitAll();
    if (app.dirtyTranscript || app.pendingCard) {
      keepDraft();
      event.preventDefault();
    }
  });
}
