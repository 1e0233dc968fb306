// SOLEil pencil: a pen mode over the stand's pages (see components/pencil.py).
// Strokes are vector data in page coordinates (0..1 of the page), drawn on one canvas per page slot of the stand, so
// zoom, two-up and screen size never move them. A stroke is immutable with an id made here (a UUID): undoing a
// stroke deletes it, redoing an erase draws a copy with a new id (a deletion is final on the server).
// What this device draws is kept in localStorage (marks per chart, and a queue of batches to send) and sent with
// fetch when it can: offline marks go when the network comes back. Outside pen mode the canvases let every touch
// through to the stand, which turns pages as before.

const CHART_RE = /\/media\/charts\/(\d+)\/(pages|svg)\/(\d+)/;
const COLORS = ["#d00000", "#0050d0", "#008a00", "#111111"];
const WIDTHS = [0.002, 0.004, 0.008]; // of the page width
const HIGHLIGHT = { color: "#ffd400", width: 0.02, alpha: 0.35 };
const ERASE_PX = 14; // how near an eraser touch must pass to a stroke
const MIN_STEP = 0.0015; // points closer than this (page fraction) are dropped
const RETRY_MS = 3000;
const QUEUE_KEY = "soleil.pencil.queue";
const SHOW_KEY = "soleil.pencil.show";
const LAYER_KEY = "soleil.pencil.layer";
const LAYERS_KEY = "soleil.pencil.layers"; // what this member may write, for the offline stand
const LABELS = { mine: "Mine", part: "Part", band: "Band" };
// musical stamps: what the server knows (services/annotations.py STAMPS) and how each is drawn
const STAMPS = {
  breath: "\u2019", fermata: "\ud834\udd10", accent: ">", "up-bow": "V", "down-bow": "\u2293", watch: "\ud83d\udc40",
  glasses: "\ud83d\udc53", "cut-start": "[", "cut-end": "]", pp: "pp", p: "p", mp: "mp", mf: "mf", f: "f", ff: "ff",
};

const prefixed = (url) => (window.path_prefix || "") + url;
const load = (key, fallback) => {
  try {
    const raw = localStorage.getItem(key);
    return raw ? JSON.parse(raw) : fallback;
  } catch {
    return fallback;
  }
};
const save = (key, value) => {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* full or private mode: kept for this visit only */
  }
};
const newId = () =>
  crypto.randomUUID
    ? crypto.randomUUID()
    : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
        (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16),
      );
const where = (img) => {
  // chart, part and page of a stand page image
  const m = CHART_RE.exec(img?.getAttribute("src") || "");
  if (!m) return null;
  let part = "";
  if (m[2] === "svg") {
    try {
      part = new URL(img.src, location.href).searchParams.get("part") || "";
    } catch {
      part = "";
    }
  }
  return { chart: Number(m[1]), part, page: Number(m[3]), layout: m[2] === "svg" ? layoutOf(img) : "" };
};
const keyOf = (chart, part) => `${chart}|${part}`;
// what an engraved page's drawing depends on (the server's layout signature is made from these); "" for a PDF
const LAYOUT_KEYS = ["w", "part", "ck", "key", "oct", "clef", "src"];
const layoutOf = (img) => {
  try {
    const url = new URL(img.src, location.href);
    if (!/\/svg\//.test(url.pathname)) return "";
    const kept = new URLSearchParams();
    for (const k of LAYOUT_KEYS) if (url.searchParams.has(k)) kept.set(k, url.searchParams.get(k));
    return kept.toString();
  } catch {
    return "";
  }
};

export default {
  template: `
    <div class="sp-pencil" data-testid="pencil" :data-mode="mode" :data-ids="shownIds" :data-pending="pending">
      <button v-if="mode === 'off' && (barShown || earlier)" class="sp-btn sp-open" aria-label="Pen: write on the music"
          data-testid="pencil-open" @click="setMode('pen')">
        <span class="material-icons" aria-hidden="true">edit</span></button>
      <div v-if="mode === 'off' && note" class="sp-note" data-testid="pencil-song-note" role="note">{{ note }}</div>
      <div v-if="mode !== 'off'" class="sp-bar" role="toolbar" aria-label="Pen" data-testid="pencil-toolbar">
        <button class="sp-btn" aria-label="Done writing" data-testid="pencil-done" @click="setMode('off')">
          <span class="material-icons" aria-hidden="true">check</span></button>
        <button class="sp-btn" aria-label="Pen" :aria-pressed="String(mode === 'pen')" data-testid="pencil-pen"
            @click="setMode('pen')"><span class="material-icons" aria-hidden="true">edit</span></button>
        <button class="sp-btn" aria-label="Highlighter" :aria-pressed="String(mode === 'highlighter')"
            data-testid="pencil-highlighter" @click="setMode('highlighter')">
          <span class="material-icons" aria-hidden="true">border_color</span></button>
        <button class="sp-btn" aria-label="Eraser" :aria-pressed="String(mode === 'eraser')"
            data-testid="pencil-eraser" @click="setMode('eraser')">
          <span class="material-icons" aria-hidden="true">auto_fix_normal</span></button>
        <button class="sp-btn" aria-label="Erase an area" :aria-pressed="String(mode === 'area')"
            data-testid="pencil-area" @click="setMode('area')">
          <span class="material-icons" aria-hidden="true">select_all</span></button>
        <button class="sp-btn" aria-label="Move a mark" :aria-pressed="String(mode === 'move')"
            data-testid="pencil-move" @click="setMode('move')">
          <span class="material-icons" aria-hidden="true">open_with</span></button>
        <button class="sp-btn" aria-label="Link: a jump for a repeat, D.S. or coda" :aria-pressed="String(mode === 'link')"
            data-testid="pencil-link" @click="setMode('link')">
          <span class="material-icons" aria-hidden="true">link</span></button>
        <button class="sp-btn" aria-label="Text" :aria-pressed="String(mode === 'text')" data-testid="pencil-text"
            @click="setMode('text')"><span class="material-icons" aria-hidden="true">title</span></button>
        <button class="sp-btn" aria-label="Stamps" :aria-pressed="String(mode === 'stamp')" data-testid="pencil-stamp"
            @click="setMode('stamp')"><span class="material-icons" aria-hidden="true">approval</span></button>
        <button class="sp-btn" aria-label="Undo" data-testid="pencil-undo" :disabled="!undoCount" @click="undo">
          <span class="material-icons" aria-hidden="true">undo</span></button>
        <button class="sp-btn" aria-label="Redo" data-testid="pencil-redo" :disabled="!redoCount" @click="redo">
          <span class="material-icons" aria-hidden="true">redo</span></button>
        <button v-for="c in colors" :key="c" class="sp-btn" :aria-label="'Colour ' + c"
            :aria-pressed="String(color === c)" @click="color = c">
          <span class="sp-swatch" :style="{ background: c }"></span></button>
        <button v-for="(w, i) in widths" :key="w" class="sp-btn" :aria-label="['Thin', 'Medium', 'Thick'][i] + ' line'"
            :aria-pressed="String(width === w)" @click="width = w">
          <span class="sp-width" :style="{ height: 2 + i * 3 + 'px' }"></span></button>
        <span class="sp-group" role="radiogroup" aria-label="Write on">
          <button v-for="l in writable" :key="l" class="sp-btn sp-layer" role="radio" :aria-checked="String(layer === l)"
              :aria-label="'Write on layer: ' + labels[l]" :data-testid="'pencil-layer-' + l" @click="pickLayer(l)">
            {{ labels[l] }}</button></span>
        <span class="sp-group" aria-label="Show layers">
          <button v-for="l in ['mine', 'part', 'band']" :key="'s' + l" class="sp-btn sp-eye"
              :aria-label="'Show layer: ' + labels[l]" :aria-pressed="String(show[l] !== false)"
              :data-testid="'pencil-show-' + l" @click="toggleShow(l)">
            <span class="material-icons" aria-hidden="true">{{ show[l] !== false ? 'visibility' : 'visibility_off' }}</span>
            <span class="sp-small">{{ labels[l] }}</span></button></span>
        <span v-if="mode === 'stamp'" class="sp-group sp-stamps" role="radiogroup" aria-label="Stamp">
          <button v-for="(glyph, name) in stamps" :key="name" class="sp-btn sp-stamp" role="radio"
              :aria-checked="String(stamp === name)" :aria-label="'Stamp: ' + name" :data-testid="'pencil-stamp-' + name"
              @click="stamp = name">{{ glyph }}</button></span>
        <a v-if="printHref" class="sp-btn" :href="printHref" aria-label="Download the PDF with the marks"
            data-testid="pencil-print" download><span class="material-icons" aria-hidden="true">print</span></a>
        <button v-if="leader" class="sp-btn" aria-label="Song note for every part" data-testid="pencil-note"
            @click="songNote"><span class="material-icons" aria-hidden="true">sticky_note_2</span></button>
      </div>
      <div v-if="earlier" class="sp-earlier" role="status" data-testid="pencil-earlier">
        {{ earlier }} mark(s) from an earlier version of this chart
        <button class="sp-btn sp-text" data-testid="pencil-earlier-keep" @click="keepEarlier(false)">Keep</button>
        <button class="sp-btn sp-text" data-testid="pencil-earlier-here" @click="keepEarlier(true)">Move here</button>
        <button class="sp-btn sp-text" data-testid="pencil-dismiss" @click="dismissEarlier">Dismiss</button></div>
      <div v-if="mode === 'link'" class="sp-earlier sp-linking" role="status" data-testid="pencil-linking">
        {{ linkFrom ? 'Now tap where it jumps to' : 'Tap the sign it jumps from (D.S., repeat, coda…)' }}
        <template v-if="linkFrom">
          <button class="sp-btn sp-text" aria-label="Previous page" data-testid="pencil-link-prev" @click="turn(-1)">
            <span class="material-icons" aria-hidden="true">chevron_left</span></button>
          <button class="sp-btn sp-text" aria-label="Next page" data-testid="pencil-link-next" @click="turn(1)">
            <span class="material-icons" aria-hidden="true">chevron_right</span></button>
          <button class="sp-btn sp-text" data-testid="pencil-link-cancel" @click="linkFrom = null">Cancel</button>
        </template></div>
      <button v-if="returnTo !== null && mode === 'off'" class="sp-btn sp-return" data-testid="pencil-return"
          :aria-label="'Back to page ' + (returnTo + 1)" @click="goBack">
        <span class="material-icons" aria-hidden="true">undo</span><span class="sp-small">Back</span></button>
      <div v-if="message" class="sp-message" role="alert">{{ message }}</div>
    </div>`,
  props: {
    csrf: { type: String, default: "" },
    layers: { type: Array, default: () => ["mine"] },
    leader: Boolean,
    standalone: Boolean, // the offline stand: no server session; the marks are kept and sent from the app later
  },
  data() {
    const layer = load(LAYER_KEY, "mine");
    const layers = this.standalone ? load(LAYERS_KEY, ["mine"]) : this.layers;
    return {
      mode: "off",
      color: COLORS[0],
      colors: COLORS,
      width: WIDTHS[1],
      widths: WIDTHS,
      layer: layers.includes(layer) ? layer : layers[0],
      writable: layers,
      stamps: STAMPS,
      stamp: "breath",
      labels: LABELS,
      show: load(SHOW_KEY, {}),
      shownIds: "",
      pending: 0,
      undoCount: 0,
      redoCount: 0,
      barShown: false,
      earlier: 0,
      printHref: "",
      note: "",
      message: "",
      linkFrom: null, // the link tool's source, until its target is tapped: {chart, part, page, point}
      returnTo: null, // the page a jump came from, for the Back button
    };
  },
  created() {
    // Plain state (never rendered by Vue): touched on every pointer move.
    this.charts = new Map(); // "chart|part" -> { strokes: Map(id -> stroke), deleted: Set(id), loaded: bool }
    this.canvases = new Map(); // slot -> { canvas, ctx, spot }
    this.drawing = null;
    this.undos = [];
    this.redos = [];
    this.queue = load(QUEUE_KEY, []);
    this.pending = this.queue.length;
  },
  mounted() {
    if (!this.standalone) save(LAYERS_KEY, this.layers);
    this.onOnline = () => this.flush();
    window.addEventListener("online", this.onOnline);
    this.retry = setInterval(() => this.queue.length && this.flush(), RETRY_MS);
    this.attach();
    this.flush();
  },
  unmounted() {
    this.gone = true;
    window.removeEventListener("online", this.onOnline);
    clearInterval(this.retry);
    this.observer?.disconnect();
    this.resizer?.disconnect();
    this.socketOff?.();
  },
  methods: {
    // --- finding the stand and its pages ---------------------------------------------------------------
    attach() {
      const stand = document.querySelector('[data-testid="stand"]');
      if (!stand) {
        if (!this.gone) setTimeout(() => this.attach(), 100); // the stand mounts in the same tick or the next
        return;
      }
      this.stand = stand;
      this.resizer = new ResizeObserver(() => this.sync());
      this.observer = new MutationObserver(() => this.sync());
      this.observer.observe(stand, { childList: true, subtree: true, attributes: true, attributeFilter: ["src"] });
      this.watchSocket();
      this.sync();
    },
    watchSocket() {
      // the app sets window.socket once its scripts run (after this component may have mounted): wait for it
      const socket = window.socket;
      if (!socket?.on) {
        if (!this.gone && !this.standalone) setTimeout(() => this.watchSocket(), 100);
        return;
      }
      const again = () => {
        this.flush();
        this.reload();
      };
      const notice = (event) => this.changed(event); // the marks' room (components/live_room.py): ids only
      socket.on("connect", again);
      socket.on("soleil_marks", notice);
      this.socketOff = () => {
        socket.off?.("connect", again);
        socket.off?.("soleil_marks", notice);
      };
    },
    sync() {
      // every slot showing a page gets its canvas; a slot the stand emptied gets none (it hides when empty)
      if (this.gone || !this.stand) return;
      this.barShown = !!this.stand.querySelector(".sl-bar");
      const slots = [...this.stand.querySelectorAll('[data-testid="stand-slot"]')];
      for (const slot of slots) {
        const img = slot.querySelector("img");
        let entry = this.canvases.get(slot);
        if (!img) {
          if (entry) entry.canvas.remove();
          continue;
        }
        if (!entry) {
          const canvas = document.createElement("canvas");
          canvas.className = "sp-canvas";
          canvas.dataset.testid = "pencil-canvas";
          entry = { canvas, ctx: canvas.getContext("2d"), spot: null, size: "" };
          this.canvases.set(slot, entry);
          this.listen(canvas, entry);
          this.resizer.observe(slot);
          this.resizer.observe(canvas); // the stand's crop resizes the page (the canvas) within its slot
        }
        if (entry.canvas.parentNode !== slot) slot.appendChild(entry.canvas);
        const spot = where(img);
        const size = `${entry.canvas.clientWidth}x${entry.canvas.clientHeight}`; // the whole page's box (crop)
        const same = entry.spot && spot && keyOf(spot.chart, spot.part) === keyOf(entry.spot.chart, entry.spot.part);
        if (!same || spot.page !== entry.spot.page || size !== entry.size) {
          entry.spot = spot;
          entry.size = size;
          this.redraw(entry);
        }
        if (spot) this.ensure(spot.chart, spot.part, spot.layout);
      }
      this.canvasMode();
      this.report();
    },
    shownEntries() {
      return [...this.canvases.entries()].filter(([slot, e]) => e.spot && e.canvas.parentNode === slot).map(([, e]) => e);
    },
    report() {
      // test hooks and the "earlier version" notice, for the pages shown
      const ids = [];
      let earlier = 0;
      for (const e of this.shownEntries()) for (const s of this.strokesOn(e.spot)) ids.push(s.id);
      this.shownIds = ids.join(",");
      for (const [, s] of this.earlierShown()) if (s.editable) earlier++;
      this.earlier = earlier;
      const first = this.shownEntries()[0];
      // the page printed as shown, with the marks: a PDF's own file, an engraved part in the layout on screen
      const layout = first?.spot.layout ? `&layout=${encodeURIComponent(first.spot.layout)}` : "";
      this.printHref = first && !this.standalone
        ? prefixed(`/annotations/${first.spot.chart}/print.pdf?part=${encodeURIComponent(first.spot.part)}${layout}`) : "";
      const data = first && this.charts.get(keyOf(first.spot.chart, first.spot.part));
      const notes = data ? [...data.strokes.values()].filter((s) => s.layer === "song" && this.visible(s)) : [];
      this.note = notes.map((s) => s.text).join(" · ");
    },
    // --- marks of a chart: fetched, kept on the device, merged ------------------------------------------
    ensure(chart, part, layout = "") {
      const key = keyOf(chart, part);
      const known = this.charts.get(key);
      if (known) {
        if (known.layout !== layout) {
          known.layout = layout; // tonight's key or the width changed the engraving: its flags change too
          this.fetchMarks(chart, part);
        }
        return;
      }
      const kept = load("soleil.pencil.c." + key, null);
      this.charts.set(key, {
        strokes: new Map((kept?.strokes || []).map((s) => [s.id, s])),
        deleted: new Set(kept?.deleted || []),
        layout,
        pages: kept?.pages || null,
      });
      this.fetchMarks(chart, part);
    },
    async fetchMarks(chart, part, ids) {
      const query = new URLSearchParams({ part });
      if (ids) query.set("ids", ids.join(","));
      const layout = this.charts.get(keyOf(chart, part))?.layout;
      if (layout) query.set("layout", layout);
      let answer;
      try {
        const response = await fetch(prefixed(`/annotations/${chart}?${query}`), { credentials: "same-origin" });
        if (!response.ok) return;
        answer = await response.json();
      } catch {
        return; // offline: what the device kept stands in
      }
      const data = this.charts.get(keyOf(chart, part));
      if (!data || this.gone) return;
      // the server's marks, plus this device's not yet sent (a union); a deletion anywhere wins
      const unsent = new Set(this.queue.flatMap((b) =>
        b.chart === chart && b.part === part ? [...b.add.map((s) => s.id), ...(b.move || []).map((m) => m.to)] : []));
      data.pages = answer.pages || null;
      if (!ids) {
        for (const id of [...data.strokes.keys()]) if (!unsent.has(id)) data.strokes.delete(id);
      }
      for (const id of answer.deleted || []) {
        data.deleted.add(id);
        data.strokes.delete(id);
      }
      for (const s of answer.strokes || []) if (!data.deleted.has(s.id)) data.strokes.set(s.id, s);
      if (ids) for (const id of ids) if (!answer.strokes.some((s) => s.id === id) && !unsent.has(id)) data.strokes.delete(id);
      this.keep(chart, part);
      this.redrawAll();
    },
    keep(chart, part) {
      const data = this.charts.get(keyOf(chart, part));
      if (data) save("soleil.pencil.c." + keyOf(chart, part), { strokes: [...data.strokes.values()], deleted: [...data.deleted],
                                                               pages: data.pages });
    },
    changed(event) {
      // the server's hub: these strokes changed on a chart (ids only); fetch them if this chart is kept here
      const key = keyOf(event.chart, event.part || "");
      if (this.charts.has(key)) return this.fetchMarks(event.chart, event.part || "", event.ids || []);
      for (const k of this.charts.keys()) {
        // a song note reaches every part of the song
        const [chart, part] = k.split("|");
        if (event.song && this.shownEntries().some((e) => String(e.spot.chart) === chart)) this.fetchMarks(Number(chart), part);
      }
    },
    reload() {
      for (const k of this.charts.keys()) {
        const [chart, part] = k.split("|");
        this.fetchMarks(Number(chart), part);
      }
    },
    strokesOn(spot) {
      const data = spot && this.charts.get(keyOf(spot.chart, spot.part));
      if (!data) return [];
      return [...data.strokes.values()].filter((s) => s.page === spot.page && s.layer !== "song" && this.visible(s));
    },
    visible(s) {
      return this.show[s.layer === "song" ? "band" : s.layer] !== false;
    },
    // --- drawing ----------------------------------------------------------------------------------------
    redrawAll() {
      for (const e of this.canvases.values()) if (e.spot) this.redraw(e);
      this.report();
    },
    redraw(entry, skip = null) {
      const { canvas, ctx } = entry;
      const slot = canvas.parentNode;
      if (!slot) return;
      const dpr = window.devicePixelRatio || 1;
      const w = canvas.clientWidth || slot.clientWidth; // the whole page, also when the stand crops it
      const h = canvas.clientHeight || slot.clientHeight;
      if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
        canvas.width = Math.round(w * dpr);
        canvas.height = Math.round(h * dpr);
      }
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      for (const s of this.strokesOn(entry.spot)) if (s.id !== skip) this.paint(ctx, s, w, h);
      this.paintTargets(entry, w, h);
      this.linkButtons(entry);
    },
    paint(ctx, s, w, h) {
      ctx.save();
      ctx.lineCap = ctx.lineJoin = "round";
      ctx.strokeStyle = ctx.fillStyle = s.color;
      ctx.lineWidth = Math.max(1, s.width * w);
      ctx.globalAlpha = (s.tool === "highlighter" ? HIGHLIGHT.alpha : 1) * (s.earlier ? 0.5 : 1);
      if (s.earlier) ctx.setLineDash([6, 4]);
      const pts = s.points || [];
      if (s.tool === "link") {
        this.paintLink(ctx, s, w, h);
      } else if (s.tool === "text" || s.tool === "stamp") {
        const stamp = s.tool === "stamp";
        const dynamic = stamp && /^[mpf]+$/.test(s.text); // dynamics in the engraver's bold italic
        ctx.font = `${dynamic ? "italic bold " : ""}${Math.round((stamp ? 0.045 : 0.03) * w)}px serif`;
        ctx.textAlign = stamp ? "center" : "left";
        ctx.textBaseline = "middle";
        if (pts[0]) ctx.fillText(stamp ? STAMPS[s.text] || s.text : s.text, pts[0][0] * w, pts[0][1] * h);
      } else if (pts.length === 1) {
        ctx.beginPath();
        ctx.arc(pts[0][0] * w, pts[0][1] * h, ctx.lineWidth / 2, 0, 2 * Math.PI);
        ctx.fill();
      } else {
        ctx.beginPath();
        ctx.moveTo(pts[0][0] * w, pts[0][1] * h);
        for (let i = 1; i < pts.length; i++) ctx.lineTo(pts[i][0] * w, pts[i][1] * h);
        ctx.stroke();
      }
      ctx.restore();
    },
    canvasMode() {
      for (const e of this.canvases.values()) e.canvas.classList.toggle("sp-active", this.mode !== "off");
      for (const b of this.stand?.querySelectorAll(".sp-jump") || []) b.hidden = this.mode !== "off";
    },
    setMode(mode) {
      this.mode = mode;
      this.linkFrom = null;
      this.message = "";
      this.canvasMode();
    },
    pickLayer(l) {
      this.layer = l;
      save(LAYER_KEY, l);
      if (this.show[l] === false) this.toggleShow(l); // never draw on a hidden layer
    },
    toggleShow(l) {
      this.show = { ...this.show, [l]: this.show[l] === false };
      save(SHOW_KEY, this.show);
      this.redrawAll();
    },
    listen(canvas, entry) {
      // pen mode: every touch on the page is the pen's; the stand underneath never sees it (no page turns)
      const stop = (e) => {
        if (this.mode === "off") return false;
        e.stopPropagation();
        e.preventDefault();
        return true;
      };
      canvas.addEventListener("pointerdown", (e) => {
        if (!stop(e) || !entry.spot) return;
        if (this.drawing || (e.pointerType === "touch" && this.penSeen && performance.now() - this.penSeen < 3000)) return;
        if (e.pointerType === "pen") this.penSeen = performance.now();
        const r = canvas.getBoundingClientRect();
        if (this.mode === "text" || this.mode === "stamp") return this.place(entry, e, r);
        if (this.mode === "move") return this.grab(entry, e, r); // picks the mark up, or nothing
        if (this.mode === "link") return this.linkAt(entry, e, r);
        try {
          canvas.setPointerCapture?.(e.pointerId);
        } catch {
          /* a pointer the browser no longer tracks: draw without capture */
        }
        this.drawing = { pointer: e.pointerId, entry, r, points: [], last: null };
        this.extend(e);
      });
      canvas.addEventListener("pointermove", (e) => {
        if (!stop(e) || !this.drawing || this.drawing.pointer !== e.pointerId) return;
        for (const c of e.getCoalescedEvents ? e.getCoalescedEvents() : [e]) this.extend(c);
        if (!e.getCoalescedEvents || !e.getCoalescedEvents().length) this.extend(e);
      });
      const end = (e) => {
        if (!stop(e) || !this.drawing || this.drawing.pointer !== e.pointerId) return;
        const d = this.drawing;
        this.drawing = null;
        if (this.mode === "move") this.drop(d);
        else if (this.mode === "area") this.eraseArea(d);
        else if (this.mode !== "eraser" && d.points.length) this.finish(d);
      };
      canvas.addEventListener("pointerup", end);
      canvas.addEventListener("pointercancel", end);
      for (const type of ["click", "dblclick", "contextmenu"]) canvas.addEventListener(type, (e) => stop(e));
    },
    extend(e) {
      const d = this.drawing;
      const x = Math.min(1, Math.max(0, (e.clientX - d.r.left) / d.r.width));
      const y = Math.min(1, Math.max(0, (e.clientY - d.r.top) / d.r.height));
      if (this.mode === "eraser") return this.eraseAt(d.entry, x, y, d.r);
      if (this.mode === "move") return this.dragTo(d, x, y);
      if (this.mode === "area") return this.areaTo(d, x, y);
      if (d.last && Math.hypot(x - d.last[0], y - d.last[1]) < MIN_STEP) return;
      if (d.points.length >= 1999) return;
      const { ctx, canvas } = d.entry;
      const w = canvas.clientWidth;
      const h = canvas.clientHeight;
      const hl = this.mode === "highlighter";
      ctx.save();
      ctx.lineCap = ctx.lineJoin = "round";
      ctx.strokeStyle = ctx.fillStyle = hl ? HIGHLIGHT.color : this.color;
      ctx.lineWidth = Math.max(1, (hl ? HIGHLIGHT.width : this.width) * w);
      ctx.globalAlpha = hl ? HIGHLIGHT.alpha : 1;
      ctx.beginPath();
      if (d.last) {
        ctx.moveTo(d.last[0] * w, d.last[1] * h);
        ctx.lineTo(x * w, y * h);
        ctx.stroke();
      } else {
        ctx.arc(x * w, y * h, ctx.lineWidth / 2, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.restore();
      d.last = [x, y];
      d.points.push([Number(x.toFixed(5)), Number(y.toFixed(5))]);
    },
    finish(d) {
      const hl = this.mode === "highlighter";
      const { chart, part, page } = d.entry.spot;
      const stroke = {
        id: newId(),
        page,
        layer: this.layer,
        tool: hl ? "highlighter" : "pen",
        color: hl ? HIGHLIGHT.color : this.color,
        width: hl ? HIGHLIGHT.width : this.width,
        points: d.points,
        text: "",
      };
      this.add(chart, part, stroke);
      this.undos.push({ kind: "add", chart, part, stroke });
      this.redos = [];
      this.counts();
    },
    place(entry, e, r) {
      // a text or a stamp sits where the page was touched
      const x = Number(Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)).toFixed(5));
      const y = Number(Math.min(1, Math.max(0, (e.clientY - r.top) / r.height)).toFixed(5));
      let text = this.stamp;
      if (this.mode === "text") {
        text = (window.prompt("Text on the music:") || "").trim().slice(0, 200);
        if (!text) return;
      }
      const { chart, part, page } = entry.spot;
      const stroke = { id: newId(), page, layer: this.layer, tool: this.mode, color: this.color, width: this.width,
                       points: [[x, y]], text };
      this.add(chart, part, stroke);
      this.undos.push({ kind: "add", chart, part, stroke });
      this.redos = [];
      this.counts();
    },
    add(chart, part, stroke) {
      const data = this.charts.get(keyOf(chart, part));
      data.strokes.set(stroke.id, { ...stroke, mine: true, editable: true, earlier: false });
      this.keep(chart, part);
      this.send(chart, part, { add: [stroke] });
      this.redrawAll();
    },
    remove(chart, part, id) {
      const data = this.charts.get(keyOf(chart, part));
      data.strokes.delete(id);
      data.deleted.add(id);
      this.keep(chart, part);
      this.send(chart, part, { delete: [id] });
      this.redrawAll();
    },
    eraseAt(entry, x, y, r) {
      const { chart, part } = entry.spot;
      const near = ERASE_PX / Math.max(r.width, 1);
      for (const s of this.strokesOn(entry.spot)) {
        if (!s.editable || !this.hits(s, x, y, near, r)) continue;
        this.remove(chart, part, s.id);
        this.undos.push({ kind: "erase", chart, part, stroke: s });
        this.redos = [];
        this.counts();
      }
    },
    areaTo(d, x, y) {
      // the area so far: from the first touch to here, outlined over the page
      d.from = d.from || [x, y];
      d.to = [x, y];
      this.redraw(d.entry);
      const { ctx, canvas } = d.entry;
      const w = canvas.clientWidth;
      const h = canvas.clientHeight;
      ctx.save();
      ctx.setLineDash([6, 4]);
      ctx.strokeStyle = "#d00000";
      ctx.lineWidth = 1.5;
      ctx.strokeRect(d.from[0] * w, d.from[1] * h, (x - d.from[0]) * w, (y - d.from[1]) * h);
      ctx.restore();
    },
    eraseArea(d) {
      // every mark of mine (or, for a leader, shared) with a point inside the area goes, in one undo step
      if (!d.from || !d.to) return this.redraw(d.entry);
      const [x0, x1] = [Math.min(d.from[0], d.to[0]), Math.max(d.from[0], d.to[0])];
      const [y0, y1] = [Math.min(d.from[1], d.to[1]), Math.max(d.from[1], d.to[1])];
      const { chart, part } = d.entry.spot;
      const steps = [];
      for (const s of this.strokesOn(d.entry.spot)) {
        const pts = s.tool === "link" ? (s.points || []).slice(0, 1) : s.points || [];
        if (!s.editable || !pts.some(([x, y]) => x >= x0 && x <= x1 && y >= y0 && y <= y1)) continue;
        this.remove(chart, part, s.id);
        steps.push({ kind: "erase", chart, part, stroke: s });
      }
      if (steps.length) {
        this.undos.push({ kind: "group", steps });
        this.redos = [];
        this.counts();
      }
      this.redrawAll();
    },
    hits(s, x, y, near, r) {
      const ratio = r.height / Math.max(r.width, 1); // distances in page widths
      const pts = s.tool === "link" ? (s.points || []).slice(0, 1) : s.points || [];
      for (let i = 0; i < pts.length; i++) {
        const [ax, ay] = pts[i];
        const [bx, by] = pts[Math.min(i + 1, pts.length - 1)];
        const dx = bx - ax;
        const dy = (by - ay) * ratio;
        const len = dx * dx + dy * dy;
        const t = len ? Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * ratio * dy) / len)) : 0;
        if (Math.hypot(ax + t * dx - x, (ay - y) * ratio + t * dy) <= near + s.width / 2) return true;
      }
      return false;
    },
    undo() {
      const step = this.undos.pop();
      if (!step) return;
      this.redos.push(this.reverse(step));
      this.counts();
    },
    redo() {
      const step = this.redos.pop();
      if (!step) return;
      this.undos.push(this.reverse(step));
      this.counts();
    },
    reverse(step) {
      // an added stroke is deleted; an erased one comes back as a copy (a deletion is final on the server)
      if (step.kind === "group") return { kind: "group", steps: step.steps.map((one) => this.reverse(one)) };
      if (step.kind === "move") {
        const back = this.moveStroke(step.chart, step.part, step.copy, step.from, -step.dx, -step.dy);
        return { ...step, copy: back, from: step.copy.page, dx: -step.dx, dy: -step.dy };
      }
      if (step.kind === "add") {
        this.remove(step.chart, step.part, step.stroke.id);
        return { ...step, kind: "erase" };
      }
      const copy = { ...step.stroke, id: newId() };
      delete copy.mine;
      delete copy.editable;
      delete copy.earlier;
      this.add(step.chart, step.part, copy);
      return { ...step, kind: "add", stroke: copy };
    },
    counts() {
      this.undoCount = this.undos.length;
      this.redoCount = this.redos.length;
    },
    dismissEarlier() {
      for (const e of this.shownEntries()) {
        for (const s of this.strokesOn(e.spot)) if (s.earlier && s.editable) this.remove(e.spot.chart, e.spot.part, s.id);
      }
    },
    // --- moving: a mark dragged, or an earlier version's marks kept or brought to the page shown -----------------
    earlierShown() {
      // [[key, stroke]] of every flagged mark of the charts shown, on any page (a page the new file lacks included)
      const keys = new Set(this.shownEntries().map((e) => keyOf(e.spot.chart, e.spot.part)));
      const found = [];
      for (const key of keys) {
        for (const s of this.charts.get(key)?.strokes.values() || []) {
          if (s.earlier && s.layer !== "song" && this.visible(s)) found.push([key, s]);
        }
      }
      return found;
    },
    moveStroke(chart, part, stroke, page, dx, dy) {
      // a move is a copy with a new id (strokes are immutable) and the original's deletion, sent as one step
      const data = this.charts.get(keyOf(chart, part));
      const all = stroke.points || [];
      const pts = stroke.tool === "link" ? all.slice(0, 1) : all; // a link's target stays where it jumps
      const xs = pts.map((p) => p[0]);
      const ys = pts.map((p) => p[1]);
      const sx = pts.length ? Math.min(Math.max(dx, -Math.min(...xs)), 1 - Math.max(...xs)) : 0;
      const sy = pts.length ? Math.min(Math.max(dy, -Math.min(...ys)), 1 - Math.max(...ys)) : 0;
      const round = (v) => Number(v.toFixed(5));
      const copy = { ...stroke, id: newId(), page, earlier: false,
                     points: [...pts.map(([x, y]) => [round(x + sx), round(y + sy)]), ...all.slice(pts.length)] };
      data.strokes.delete(stroke.id);
      data.deleted.add(stroke.id);
      data.strokes.set(copy.id, copy);
      this.keep(chart, part);
      this.send(chart, part, { move: [{ id: stroke.id, to: copy.id, page, dx: round(sx), dy: round(sy) }] });
      this.redrawAll();
      return copy;
    },
    keepEarlier(here) {
      // every flagged mark I may edit: kept on its page (or the last page the new file has), or brought to the page
      // shown first, where the move tool drags each to its place; undone in one step
      const first = this.shownEntries()[0];
      if (!first) return;
      const steps = [];
      for (const [key, s] of this.earlierShown()) {
        if (!s.editable) continue;
        const [chart, part] = [Number(key.split("|")[0]), key.split("|").slice(1).join("|")];
        const pages = this.charts.get(key)?.pages;
        const page = here && keyOf(first.spot.chart, first.spot.part) === key ? first.spot.page
          : pages ? Math.min(s.page, pages - 1) : s.page;
        const copy = this.moveStroke(chart, part, s, page, 0, 0);
        steps.push({ kind: "move", chart, part, copy, from: s.page, dx: 0, dy: 0 });
      }
      if (steps.length) {
        this.undos.push({ kind: "group", steps });
        this.redos = [];
        this.counts();
      }
    },
    grab(entry, e, r) {
      // the topmost mark of mine (or a leader's shared one) under the touch, within a 44 px reach, picked up
      const x = (e.clientX - r.left) / r.width;
      const y = (e.clientY - r.top) / r.height;
      const near = 22 / Math.max(r.width, 1);
      const hit = this.strokesOn(entry.spot).reverse().find((s) => s.editable && this.hits(s, x, y, near, r));
      if (!hit) return false;
      this.drawing = { pointer: e.pointerId, entry, r, points: [], last: null, moving: hit, from: [x, y], dx: 0, dy: 0 };
      try {
        entry.canvas.setPointerCapture?.(e.pointerId);
      } catch {
        /* draw without capture */
      }
      return true;
    },
    dragTo(d, x, y) {
      if (!d.moving) return;
      d.dx = x - d.from[0];
      d.dy = y - d.from[1];
      const { canvas, ctx } = d.entry;
      const w = canvas.clientWidth;
      const h = canvas.clientHeight;
      this.redraw(d.entry, d.moving.id);
      const shown = { ...d.moving, points: (d.moving.points || []).map(([px, py], i) =>
        d.moving.tool === "link" && i ? [px, py] : [px + d.dx, py + d.dy]) };
      this.paint(ctx, shown, w, h);
    },
    drop(d) {
      if (!d.moving) return;
      if (Math.hypot(d.dx, d.dy) < 0.002 && !d.moving.earlier) return this.redraw(d.entry);
      const { chart, part, page } = d.entry.spot;
      const copy = this.moveStroke(chart, part, d.moving, page, d.dx, d.dy);
      this.undos.push({ kind: "move", chart, part, copy, from: page, dx: copy.points[0][0] - d.moving.points[0][0],
                        dy: copy.points[0][1] - d.moving.points[0][1] });
      this.redos = [];
      this.counts();
    },
    // --- links: jumps for repeats and D.S./D.C./coda -------------------------------------------------------
    linkAt(entry, e, r) {
      // first tap: the sign it jumps from; second (on this page or another, turned with ‹ ›): where it lands
      const x = Number(Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)).toFixed(5));
      const y = Number(Math.min(1, Math.max(0, (e.clientY - r.top) / r.height)).toFixed(5));
      const { chart, part, page } = entry.spot;
      const from = this.linkFrom;
      if (!from || from.chart !== chart || from.part !== part) {
        this.linkFrom = { chart, part, page, point: [x, y] };
        return;
      }
      this.linkFrom = null;
      const stroke = { id: newId(), page: from.page, layer: this.layer, tool: "link", color: "#0050d0", width: 0.004,
                       points: [from.point, [x, y]], text: String(page) };
      this.add(chart, part, stroke);
      this.undos.push({ kind: "add", chart, part, stroke });
      this.redos = [];
      this.counts();
      if (page !== from.page) this.goto(from.page); // back to the sign: the link is drawn there
    },
    linksTo(spot) {
      const data = spot && this.charts.get(keyOf(spot.chart, spot.part));
      if (!data) return [];
      return [...data.strokes.values()].filter((s) => s.tool === "link" && Number(s.text) === spot.page && this.visible(s));
    },
    paintLink(ctx, s, w, h) {
      // the source: a small blue disc with an arrow, the size of a fingertip (the jump button sits over it)
      const [x, y] = s.points[0];
      ctx.globalAlpha = s.earlier ? 0.5 : 0.85;
      ctx.beginPath();
      ctx.arc(x * w, y * h, 11, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillStyle = "#fff";
      ctx.font = "bold 14px sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText("\u21aa", x * w, y * h + 1);
    },
    paintTargets(entry, w, h) {
      // where links land on this page: a ring, so the eye finds the segno or coda after the jump
      const { ctx } = entry;
      for (const s of this.linksTo(entry.spot)) {
        const [x, y] = s.points[1] || [];
        if (x === undefined) continue;
        ctx.save();
        ctx.strokeStyle = s.color;
        ctx.lineWidth = 2.5;
        ctx.globalAlpha = s.earlier ? 0.5 : 0.85;
        ctx.beginPath();
        ctx.arc(x * w, y * h, 12, 0, 2 * Math.PI);
        ctx.stroke();
        ctx.restore();
      }
    },
    linkButtons(entry) {
      // a 44 px button over each link's source: outside pen mode a tap jumps (the stand never sees that tap)
      const slot = entry.canvas.parentNode;
      for (const old of slot.querySelectorAll(".sp-jump")) old.remove();
      for (const s of this.strokesOn(entry.spot)) {
        if (s.tool !== "link" || !s.points?.[0]) continue;
        const button = document.createElement("button");
        button.type = "button";
        button.className = "sp-jump";
        button.dataset.testid = "pencil-jump";
        button.setAttribute("aria-label", `Jump to page ${Number(s.text) + 1}`);
        // in page coordinates: the stand's crop variables place the whole page in the slot (stand.css)
        button.style.left = `calc(var(--sl-px, 0px) + ${s.points[0][0]} * var(--sl-pw, 100%))`;
        button.style.top = `calc(var(--sl-py, 0px) + ${s.points[0][1]} * var(--sl-ph, 100%))`;
        button.hidden = this.mode !== "off";
        for (const type of ["pointerdown", "pointerup", "touchstart", "touchend", "dblclick"]) {
          button.addEventListener(type, (e) => e.stopPropagation());
        }
        button.addEventListener("click", (e) => {
          e.stopPropagation();
          this.jump(s);
        });
        slot.appendChild(button);
      }
    },
    standPage() {
      return Number(this.stand?.dataset.page || 0);
    },
    goto(page) {
      this.stand?.dispatchEvent(new CustomEvent("soleil-goto", { detail: { page } }));
    },
    turn(direction) {
      this.goto(this.standPage() + direction * (Number(this.stand?.dataset.perView) || 1));
    },
    jump(s) {
      this.returnTo = this.standPage();
      this.goto(Number(s.text));
    },
    goBack() {
      const page = this.returnTo;
      this.returnTo = null;
      if (page !== null) this.goto(page);
    },
    songNote() {
      const first = this.shownEntries()[0];
      if (!first) return;
      const text = (window.prompt("A note for every part of this song (e.g. “cut to letter C”):") || "").trim();
      if (!text) return;
      const { chart, part } = first.spot;
      this.add(chart, part, { id: newId(), page: 0, layer: "song", tool: "text", color: "#000000", width: 0.003,
                              points: [], text: text.slice(0, 200) });
    },
    // --- sending: a queue kept on the device, sent in order -----------------------------------------------
    send(chart, part, change) {
      const last = this.queue[this.queue.length - 1];
      const layout = this.charts.get(keyOf(chart, part))?.layout || "";
      const size = (b) => b.add.length + b.delete.length + (b.move || []).length;
      if (last && !last.sending && last.chart === chart && last.part === part && (last.layout || "") === layout
          && size(last) < 90) {
        last.add.push(...(change.add || []));
        last.delete.push(...(change.delete || []));
        last.move = [...(last.move || []), ...(change.move || [])];
      } else {
        this.queue.push({ chart, part, layout, add: change.add || [], delete: change.delete || [], move: change.move || [] });
      }
      this.persistQueue();
      this.flush();
    },
    persistQueue() {
      save(QUEUE_KEY, this.queue.map(({ sending, ...b }) => b));
      this.pending = this.queue.length;
    },
    async flush() {
      if (this.flushing || this.gone || this.standalone) return; // the offline stand has no session: the app sends
      this.flushing = true;
      try {
        while (this.queue.length) {
          const batch = this.queue[0];
          batch.sending = true;
          let response;
          try {
            response = await fetch(prefixed(`/annotations/${batch.chart}`), {
              method: "POST",
              credentials: "same-origin",
              headers: { "Content-Type": "application/json", "X-CSRF-Token": this.csrf },
              body: JSON.stringify({ part: batch.part, layout: batch.layout || null, add: batch.add,
                                     move: batch.move || [], delete: batch.delete }),
            });
          } catch {
            batch.sending = false;
            return; // offline: kept, sent on the next try
          }
          if (response.status >= 500 || response.status === 429 || response.status === 401) {
            batch.sending = false;
            return; // the server is busy or the session must be renewed: try again later
          }
          this.queue.shift();
          this.persistQueue();
          if (!response.ok) {
            this.message = (await response.text()).slice(0, 200) || "Those marks could not be saved.";
            this.fetchMarks(batch.chart, batch.part); // show what the server kept
          }
        }
      } finally {
        this.flushing = false;
      }
    },
  },
};
