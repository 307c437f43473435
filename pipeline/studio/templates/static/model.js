// The studio's model of the transcript: paragraphs of words with times, and how an edited
// paragraph's words keep them. It mirrors pipeline/stages/corrections.py, which publish
// uses (the server lines the saved text up again; this is for playing and highlighting
// while the editor works): unchanged words keep their times, changed words share the time
// of what they replaced, added words fit between their neighbours.

// Tokens as Python's str.split() makes them, with where each lies in the text.
export function tokenize(text) {
  const out = [];
  const re = /\S+/g;
  let m;
  while ((m = re.exec(text))) out.push({ t: m[0], a: m.index, b: m.index + m[0].length });
  return out;
}

export function norm(token) {
  return token.toLowerCase().replace(/[^\p{L}\p{N}_']/gu, "");
}

// A paragraph: {start, speaker, comments, words: [{t, s, e}], text}. Words are objects so
// that one kept through an edit stays the same object (a suspect holds on to its words).
export function paragraph(data) {
  const tokens = tokenize(data.text);
  const words = tokens.map((tok, i) => ({ t: tok.t, s: data.times[i][0], e: data.times[i][1] }));
  return { start: data.start, speaker: data.speaker, comments: data.comments || [], text: data.text, words };
}

// Edit operations between two token lists (the fewest word edits), as Python's
// Levenshtein.opcodes gives them: [tag, i1, i2, j1, j2].
export function opcodes(a, b) {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail), y = b.slice(head, b.length - tail);
  const ops = [];
  if (head) ops.push(["equal", 0, head, 0, head]);
  if (x.length * y.length > 4e6) {  // a huge paste: one block replaced, no table that large
    ops.push(block(x.length, y.length, head, head));
  } else {
    for (const op of table(x, y)) ops.push([op[0], op[1] + head, op[2] + head, op[3] + head, op[4] + head]);
  }
  if (tail) ops.push(["equal", a.length - tail, a.length, b.length - tail, b.length]);
  return ops.filter((op) => op[1] < op[2] || op[3] < op[4]);
}

function block(n, m, i, j) {
  return [n && m ? "replace" : n ? "delete" : "insert", i, i + n, j, j + m];
}

function table(x, y) {
  const n = x.length, m = y.length, w = m + 1;
  const d = new Uint32Array((n + 1) * w);
  for (let i = 0; i <= n; i++) d[i * w] = i;
  for (let j = 0; j <= m; j++) d[j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const same = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i * w + j] = Math.min(d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1, d[(i - 1) * w + j - 1] + same);
    }
  }
  const steps = [];
  let i = n, j = m;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && x[i - 1] === y[j - 1] && d[i * w + j] === d[(i - 1) * w + j - 1]) { steps.push("equal"); i--; j--; }
    else if (i > 0 && j > 0 && d[i * w + j] === d[(i - 1) * w + j - 1] + 1) { steps.push("replace"); i--; j--; }
    else if (i > 0 && d[i * w + j] === d[(i - 1) * w + j] + 1) { steps.push("delete"); i--; }
    else { steps.push("insert"); j--; }
  }
  steps.reverse();
  const ops = [];
  i = 0; j = 0;
  for (const tag of steps) {
    const di = tag === "insert" ? 0 : 1, dj = tag === "delete" ? 0 : 1;
    const last = ops[ops.length - 1];
    const kind = tag === "equal" ? "equal" : "change";
    if (last && last.kind === kind) { last[2] += di; last[4] += dj; }
    else { const op = [tag, i, i + di, j, j + dj]; op.kind = kind; ops.push(op); }
    i += di; j += dj;
  }
  return ops.map((op) => op.kind === "equal" ? op : block(op[2] - op[1], op[4] - op[3], op[1], op[3]));
}

// The words of `text`, with times carried over from `old` (the paragraph's words before the
// edit). Unchanged words are the very same objects.
export function realign(old, text) {
  const tokens = tokenize(text).map((tok) => tok.t);
  const ops = opcodes(old.map((w) => norm(w.t)), tokens.map(norm));
  const words = new Array(tokens.length).fill(null);
  for (const [tag, i1, i2, j1, j2] of ops) {
    if (tag === "equal") {
      for (let k = 0; k < i2 - i1; k++) {
        const w = old[i1 + k];
        w.t = tokens[j1 + k];  // the same word, perhaps with other punctuation or case
        words[j1 + k] = w;
      }
    } else if (tag === "replace") {
      share(words, tokens, j1, j2, old[i1].s, old[i2 - 1].e);
    }
  }
  for (let k = 0; k < words.length; k++) {  // added words: between their neighbours
    if (words[k]) continue;
    let end = k;
    while (end < words.length && !words[end]) end++;
    const before = k ? words[k - 1].e : (end < words.length ? words[end].s : (old[0] ? old[0].s : 0));
    const after = end < words.length ? words[end].s : before + 0.4 * (end - k);
    share(words, tokens, k, end, before, Math.max(after, before));
    k = end - 1;
  }
  return words;
}

function share(words, tokens, j1, j2, start, end) {
  const weights = tokens.slice(j1, j2).map((t) => norm(t).length + 1);
  const total = weights.reduce((x, y) => x + y, 0);
  let at = start;
  for (let k = j1; k < j2; k++) {
    const step = (end - start) * weights[k - j1] / total;
    words[k] = { t: tokens[k], s: at, e: at + step, typed: true };
    at += step;
  }
}

// Index of the word being said at `time` in a sorted list of {s, e}: the last that started.
export function wordAt(words, time) {
  let lo = 0, hi = words.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (words[mid].s <= time + 0.02) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

// "1:02" or "1:02:03", as the pages and cards write times.
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
}
