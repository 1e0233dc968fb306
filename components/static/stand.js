// SOLEil music stand: a full-screen chart reader.
// Every page turn happens here, in the browser, with no server round trip: the websocket may be down on stage.
// Pages are <img> nodes that were created, loaded and decoded ahead of time; a turn moves them into the spread.
// Styles live in stand.css (added by stand.py). No libraries, no build step.

const NEXT_KEYS = new Set(["ArrowRight", "ArrowDown", "PageDown", " ", "Enter"]);
const PREV_KEYS = new Set(["ArrowLeft", "ArrowUp", "PageUp", "Backspace"]);
const TAP_MS = 350; // longest press that still counts as a tap
const TAP_PX = 12; // farthest a tap may wander
const DOUBLE_MS = 280; // second tap within this time in the middle third zooms
const SWIPE_PX = 50; // shortest horizontal travel that turns
const MAX_ZOOM = 4;
const REPORT_MS = 400; // page_change debounce
const GAP = 4; // px between two pages side by side

const prefixed = (url) => (url && url.startsWith("/") ? (window.path_prefix || "") + url : url);
const prefixedSrcset = (srcset) =>
  srcset
    .split(",")
    .map((s) => prefixed(s.trim()))
    .join(", ");
const stored = (key) => {
  try {
    return localStorage.getItem("soleil.stand." + key) === "1";
  } catch {
    return false;
  }
};
const store = (key, on) => {
  try {
    localStorage.setItem("soleil.stand." + key, on ? "1" : "0");
  } catch {
    /* private mode: keep it for this visit only */
  }
};

export default {
  template: `
    <div class="sl-stand" role="region" data-testid="stand"
        :class="{ 'sl-night': isNight, 'sl-fit-width': fitWidth, 'sl-zoomed': zoomed, 'sl-two-up': perView === 2 }"
        :aria-label="'Chart: ' + title" :data-page="page" :data-pages="pages.length" :data-per-view="perView">
      <div ref="viewport" class="sl-viewport" data-testid="stand-viewport"
          @pointerdown="onDown" @pointermove="onMove" @pointerup="onUp" @pointercancel="onCancel"
          @contextmenu.prevent @dragstart.prevent>
        <div ref="spread" class="sl-spread">
          <div ref="slot0" class="sl-slot" data-testid="stand-slot"></div>
          <div ref="slot1" class="sl-slot" data-testid="stand-slot"></div>
        </div>
      </div>
      <div class="sl-indicator" :class="{ 'sl-flash': flash, 'sl-off': toolbar }" data-testid="stand-indicator"
          aria-live="polite">{{ indicator }}</div>
      <template v-if="toolbar">
        <div class="sl-bar sl-top" role="toolbar" aria-label="Chart" data-testid="stand-toolbar">
          <button class="sl-btn" aria-label="Close chart" data-testid="stand-close" @click="act($event, 'close')">
            <span class="material-icons" aria-hidden="true">arrow_back</span></button>
          <div class="sl-titles"><div class="sl-title">{{ title }}</div><div class="sl-part">{{ part_label }}</div></div>
          <div class="sl-count" data-testid="stand-count">{{ indicator }}</div>
        </div>
        <div class="sl-bar sl-bottom" role="toolbar" aria-label="Stand controls">
          <div v-if="prev_title || next_title" class="sl-songs">
            <button v-if="prev_title" class="sl-btn sl-song" :aria-label="'Previous song: ' + prev_title"
                data-testid="stand-prev-song" @click="act($event, 'song', 'prev')">
              <span class="material-icons" aria-hidden="true">skip_previous</span><span>{{ prev_title }}</span></button>
            <span v-else></span>
            <button v-if="next_title" class="sl-btn sl-song" :aria-label="'Next song: ' + next_title"
                data-testid="stand-next-song" @click="act($event, 'song', 'next')">
              <span>{{ next_title }}</span><span class="material-icons" aria-hidden="true">skip_next</span></button>
          </div>
          <div class="sl-tools">
            <button class="sl-btn sl-turn" aria-label="Previous page" data-testid="stand-prev" :disabled="page === 0"
                @click="act($event, 'prev')"><span class="material-icons" aria-hidden="true">chevron_left</span></button>
            <button class="sl-btn sl-toggle" aria-label="Night mode" :aria-pressed="String(isNight)"
                data-testid="stand-night" @click="act($event, 'night')">
              <span class="material-icons" aria-hidden="true">dark_mode</span>
              <span class="sl-label">Night</span></button>
            <button class="sl-btn sl-toggle" aria-label="Fit to width" :aria-pressed="String(fitWidth)"
                data-testid="stand-fit" @click="act($event, 'fit')">
              <span class="material-icons" aria-hidden="true">width_wide</span>
              <span class="sl-label">Width</span></button>
            <button class="sl-btn sl-toggle" aria-label="Two pages side by side" :aria-pressed="String(perView === 2)"
                data-testid="stand-two-up" :disabled="!wide" @click="act($event, 'single')">
              <span class="material-icons" aria-hidden="true">import_contacts</span>
              <span class="sl-label">2 pages</span></button>
            <button class="sl-btn sl-turn" aria-label="Next page" data-testid="stand-next" :disabled="atEnd"
                @click="act($event, 'next')"><span class="material-icons" aria-hidden="true">chevron_right</span></button>
          </div>
        </div>
      </template>
    </div>`,
  props: {
    title: { type: String, default: "" },
    part_label: { type: String, default: "" },
    pages: { type: Array, default: () => [] },
    night: Boolean,
    start_page: { type: Number, default: 0 },
    chart_key: { type: Number, default: 0 },
    prev_title: String,
    next_title: String,
  },
  data() {
    return {
      page: 0,
      isNight: this.night,
      fitWidth: stored("fit-width"),
      forceSingle: stored("single"),
      wide: false,
      zoomed: false,
      toolbar: false,
      flash: true,
    };
  },
  computed: {
    perView() {
      return this.wide && !this.forceSingle ? 2 : 1;
    },
    indicator() {
      const n = this.pages.length;
      if (!n) return "–";
      const last = Math.min(n, this.page + this.perView);
      return last > this.page + 1 ? `${this.page + 1}–${last} / ${n}` : `${this.page + 1} / ${n}`;
    },
    atEnd() {
      return this.page + this.perView > this.pages.length - 1;
    },
  },
  watch: {
    chart_key: { handler: "loadChart", flush: "post" },
    night(on) {
      this.isNight = on;
    },
    perView: { handler: "render", flush: "post" },
    fitWidth: { handler: "render", flush: "post" },
  },
  created() {
    // Plain (non-reactive) state: touched on every pointer move, never rendered by Vue.
    this.cache = new Map(); // page index -> { img, ready }
    this.pointers = new Map();
    this.gesture = null;
    this.zoom = { s: 1, x: 0, y: 0 };
  },
  mounted() {
    this.onKey = this.onKey.bind(this);
    this.onVisibility = this.onVisibility.bind(this);
    document.addEventListener("keydown", this.onKey);
    document.addEventListener("visibilitychange", this.onVisibility);
    document.documentElement.classList.add("sl-stand-open");
    this.resizer = new ResizeObserver(() => this.measure());
    this.resizer.observe(this.$refs.viewport);
    this.$el.dataset.wakeLock = "pending";
    this.acquireWakeLock();
    this.flashIndicator();
    queueMicrotask(() => this.loadChart()); // after the app's mounted() has set window.path_prefix
  },
  beforeUnmount() {
    this.flushReport();
  },
  unmounted() {
    this.gone = true;
    document.removeEventListener("keydown", this.onKey);
    document.removeEventListener("visibilitychange", this.onVisibility);
    document.documentElement.classList.remove("sl-stand-open");
    this.resizer.disconnect();
    clearTimeout(this.tapTimer);
    clearTimeout(this.flashTimer);
    clearTimeout(this.reportTimer);
    this.wakeLock?.release().catch(() => {});
    this.cache.clear();
  },
  methods: {
    // --- chart and pages -------------------------------------------------------------------------
    loadChart() {
      this.cache.clear();
      this.page = Math.max(0, Math.min(this.start_page || 0, this.pages.length - 1));
      this.resetZoom();
      this.measure();
      this.render();
      this.flashIndicator();
    },
    goTo(target) {
      const n = this.pages.length;
      target = Math.max(0, Math.min(target, n - 1));
      if (!n || target === this.page) return false;
      this.page = target;
      this.resetZoom();
      this.$refs.viewport.scrollTop = 0;
      this.render();
      this.flashIndicator();
      clearTimeout(this.reportTimer);
      this.reportTimer = setTimeout(() => this.report(), REPORT_MS);
      return true;
    },
    next() {
      return !this.atEnd && this.goTo(this.page + this.perView);
    },
    prev() {
      return this.goTo(this.page - this.perView);
    },
    flushReport() {
      if (this.reportTimer) this.report();
    },
    report() {
      clearTimeout(this.reportTimer);
      this.reportTimer = null;
      try {
        this.$emit("page_change", { page: this.page, pages: this.pages.length }); // fire and forget
      } catch {
        /* offline: the place is kept here anyway */
      }
    },
    image(i) {
      let entry = this.cache.get(i);
      if (entry) return entry;
      const p = this.pages[i];
      const img = new Image();
      entry = { img, ready: false };
      this.cache.set(i, entry);
      img.className = "sl-page";
      img.draggable = false;
      img.decoding = "async";
      img.dataset.testid = "stand-page-img";
      img.dataset.index = i;
      img.sizes = this.box(i).w + "px";
      if (p.srcset) img.srcset = prefixedSrcset(p.srcset);
      img.src = prefixed(p.src);
      const decoded = () => {
        entry.ready = true;
        if (this.cache.get(i) === entry) this.markReady();
      };
      // decode() rejects when the source changes mid-way (e.g. a resize picked another srcset width): retry once
      img.decode().then(decoded, () => img.decode().then(decoded, () => {}));
      return entry;
    },
    render() {
      const n = this.pages.length;
      [this.$refs.slot0, this.$refs.slot1].forEach((slot, k) => {
        if (!slot) return;
        const i = this.page + k;
        if (k >= this.perView || i >= n) return slot.replaceChildren();
        const { img } = this.image(i);
        img.alt = `${this.title}, page ${i + 1} of ${n}`;
        if (slot.firstChild !== img) slot.replaceChildren(img);
      });
      this.layout();
      this.preload();
    },
    preload() {
      // Next 2 pages (a spread ahead when two-up) and the previous one (spread), nearest first.
      const v = this.perView;
      const first = this.page;
      const wanted = [];
      for (let k = 1; k <= 2 * v; k++) wanted.push(first + v - 1 + k);
      for (let k = 1; k <= v; k++) wanted.push(first - k);
      for (const i of wanted) if (i >= 0 && i < this.pages.length) this.image(i);
      for (const i of this.cache.keys()) if (i < first - 2 * v || i > first + 4 * v) this.cache.delete(i);
      this.markReady();
    },
    markReady() {
      // test hook: which pages sit decoded in the cache, e.g. "0,1,2"
      const ready = [...this.cache].filter(([, e]) => e.ready).map(([i]) => i);
      if (!this.gone) this.$el.dataset.ready = ready.sort((a, b) => a - b).join(",");
    },
    // --- layout ----------------------------------------------------------------------------------
    measure() {
      const vp = this.$refs.viewport;
      if (!vp || !vp.clientWidth) return;
      this.wide = vp.clientWidth > vp.clientHeight && vp.clientWidth >= 900;
      this.layout();
    },
    box(i) {
      // CSS size of page i in the current layout (before zoom)
      const vp = this.$refs.viewport;
      const p = this.pages[i] || {};
      const ratio = (p.width || 800) / (p.height || 1035);
      const W = vp?.clientWidth || window.innerWidth;
      const H = vp?.clientHeight || window.innerHeight;
      const boxW = (W - GAP * (this.perView - 1)) / this.perView;
      const w = this.fitWidth ? boxW : Math.min(boxW, H * ratio);
      return { w: Math.max(1, Math.round(w)), h: Math.max(1, Math.round(w / ratio)) };
    },
    layout() {
      [this.$refs.slot0, this.$refs.slot1].forEach((slot, k) => {
        const { w, h } = this.box(this.page + k);
        if (slot) Object.assign(slot.style, { width: w + "px", height: h + "px" });
      });
      for (const [i, { img }] of this.cache) {
        const sizes = this.box(i).w + "px";
        if (img.sizes !== sizes) img.sizes = sizes;
      }
    },
    // --- zoom ------------------------------------------------------------------------------------
    applyZoom() {
      const z = this.zoom;
      const spread = this.$refs.spread;
      const W = spread.offsetWidth;
      const H = spread.offsetHeight;
      z.s = Math.max(1, Math.min(MAX_ZOOM, z.s));
      z.x = Math.min(0, Math.max(W - W * z.s, z.x));
      z.y = Math.min(0, Math.max(H - H * z.s, z.y));
      spread.style.transform = z.s === 1 ? "" : `translate(${z.x}px, ${z.y}px) scale(${z.s})`;
      this.zoomed = z.s > 1;
      this.$el.dataset.zoom = z.s.toFixed(2);
    },
    resetZoom() {
      this.zoom = { s: 1, x: 0, y: 0 };
      if (this.$refs.spread) this.applyZoom();
    },
    zoomAround(s, px, py, base = this.zoom) {
      // keep the content point under (px, py) where it is
      const cx = (px - base.x) / base.s;
      const cy = (py - base.y) / base.s;
      this.zoom = { s, x: px - s * cx, y: py - s * cy };
      this.applyZoom();
    },
    // --- pointer gestures: tap thirds, double-tap zoom, swipe, pinch, pan --------------------------
    point(e) {
      const r = this.$refs.viewport.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top + this.$refs.viewport.scrollTop }; // spread coordinates
    },
    onDown(e) {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      if (e.isPrimary) this.pointers.clear(); // forget pointers whose pointerup got lost
      this.$refs.viewport.setPointerCapture?.(e.pointerId);
      this.pointers.set(e.pointerId, this.point(e));
      if (this.pointers.size === 1) {
        this.gesture = { start: this.point(e), t: performance.now(), moved: false, multi: false, base: { ...this.zoom } };
      } else if (this.pointers.size === 2 && this.gesture) {
        const [a, b] = [...this.pointers.values()];
        Object.assign(this.gesture, { multi: true, d: Math.hypot(a.x - b.x, a.y - b.y) || 1, base: { ...this.zoom } });
        this.gesture.mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
      }
    },
    onMove(e) {
      if (!this.pointers.has(e.pointerId) || !this.gesture) return;
      const p = this.point(e);
      this.pointers.set(e.pointerId, p);
      const g = this.gesture;
      if (this.pointers.size >= 2) {
        const [a, b] = [...this.pointers.values()];
        const s = (g.base.s * Math.hypot(a.x - b.x, a.y - b.y)) / g.d;
        const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
        this.zoomAround(s, g.mid.x, g.mid.y, g.base); // scale around the pinch start...
        this.zoom.x += mid.x - g.mid.x; // ...and follow the fingers
        this.zoom.y += mid.y - g.mid.y;
        this.applyZoom();
        return;
      }
      const dx = p.x - g.start.x;
      const dy = p.y - g.start.y;
      if (Math.hypot(dx, dy) > TAP_PX) g.moved = true;
      if (this.zoom.s > 1) {
        this.zoom.x = g.base.x + dx;
        this.zoom.y = g.base.y + dy;
        this.applyZoom();
      }
    },
    onUp(e) {
      if (!this.pointers.delete(e.pointerId)) return;
      const g = this.gesture;
      if (!g) return;
      if (this.pointers.size) {
        // one finger of a pinch lifted: the other one pans from here
        const rest = [...this.pointers.values()][0];
        this.gesture = { ...g, start: rest, base: { ...this.zoom } };
        return;
      }
      this.gesture = null;
      if (g.multi) {
        if (this.zoom.s < 1.05) this.resetZoom();
        return;
      }
      const p = this.point(e);
      const dx = p.x - g.start.x;
      const dy = p.y - g.start.y;
      if (!g.moved && performance.now() - g.t < TAP_MS) return this.onTap(p.x, p.y);
      if (this.zoom.s === 1 && Math.abs(dx) > SWIPE_PX && Math.abs(dx) > 1.5 * Math.abs(dy)) {
        if (dx < 0) this.next();
        else this.prev();
      }
    },
    onCancel(e) {
      // the browser took the gesture over (e.g. vertical scrolling in fit-to-width): never turn on it
      this.pointers.delete(e.pointerId);
      if (!this.pointers.size) this.gesture = null;
    },
    onTap(x, y) {
      const W = this.$refs.viewport.clientWidth;
      if (x > (2 * W) / 3) return this.next(); // side thirds turn at once, never waiting for a second tap
      if (x < W / 3) return this.prev();
      const now = performance.now();
      const last = this.lastTap;
      if (this.tapTimer && last && now - last.t < DOUBLE_MS && Math.hypot(x - last.x, y - last.y) < 40) {
        clearTimeout(this.tapTimer);
        this.tapTimer = null;
        if (this.zoom.s > 1) this.resetZoom();
        else this.zoomAround(2, x, y);
        return;
      }
      this.lastTap = { x, y, t: now };
      clearTimeout(this.tapTimer);
      this.tapTimer = setTimeout(() => {
        this.tapTimer = null;
        this.toolbar = !this.toolbar;
      }, DOUBLE_MS);
    },
    // --- keys: pedals send these -----------------------------------------------------------------
    onKey(e) {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      if (!this.$el.getClientRects().length) return; // stand hidden
      const t = e.target;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      if ((e.key === "Enter" || e.key === " ") && t?.closest?.("button, a, [role=button]")) return;
      const key = e.key;
      if (key === "Escape") {
        if (!this.toolbar) return;
        this.toolbar = false;
      } else if (key === " " && e.shiftKey) {
        if (!e.repeat) this.prev();
      } else if (NEXT_KEYS.has(key)) {
        if (!e.repeat) this.next(); // a pedal held down must not run through the chart
      } else if (PREV_KEYS.has(key)) {
        if (!e.repeat) this.prev();
      } else if (key === "Home") {
        this.goTo(0);
      } else if (key === "End") {
        this.goTo(this.pages.length - this.perView);
      } else return;
      e.preventDefault();
    },
    // --- toolbar ---------------------------------------------------------------------------------
    act(e, what, arg) {
      if (e.detail) e.currentTarget.blur(); // a tapped button must not keep focus, or a pedal's Space/Enter would press it
      if (what === "close") {
        this.flushReport();
        this.$emit("close");
      }
      else if (what === "song") this.$emit("song_request", { direction: arg });
      else if (what === "prev") this.prev();
      else if (what === "next") this.next();
      else if (what === "night") {
        this.isNight = !this.isNight;
        this.$emit("night_change", { night: this.isNight });
      } else if (what === "fit") {
        this.fitWidth = !this.fitWidth;
        store("fit-width", this.fitWidth);
        this.resetZoom();
      } else if (what === "single") {
        this.forceSingle = !this.forceSingle;
        store("single", this.forceSingle);
      }
    },
    flashIndicator() {
      this.flash = true;
      clearTimeout(this.flashTimer);
      this.flashTimer = setTimeout(() => (this.flash = false), 1500);
    },
    // --- screen wake lock ------------------------------------------------------------------------
    async acquireWakeLock() {
      const state = (s) => !this.gone && (this.$el.dataset.wakeLock = s);
      if (!navigator.wakeLock || !window.isSecureContext) return state("unsupported");
      if (document.visibilityState !== "visible") return;
      try {
        const lock = await navigator.wakeLock.request("screen");
        if (this.gone) return lock.release();
        this.wakeLock = lock;
        state("active");
        lock.addEventListener("release", () => state("released"));
      } catch {
        state("denied"); // e.g. battery saver: the screen may dim, nothing else to do
      }
    },
    onVisibility() {
      if (document.visibilityState === "visible" && (!this.wakeLock || this.wakeLock.released)) this.acquireWakeLock();
    },
  },
};
