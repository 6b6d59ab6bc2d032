// Small time-series charts drawn on a <canvas> with the 2D API: no library, nothing to build.

const margin = { left: 56, right: 12, top: 26, bottom: 22 };

/**
 * Draws series of points over the last `windowMs` milliseconds.
 * series: [{ name, color, points: [{ t: epoch ms, v: number, base?: number }], style: "line" | "dots" | "bars" }]; a bar
 * goes from `base` (0 without one) to `base + v`, so that two series can stack. `note` is written after the legend;
 * `integers` keeps the grid on whole numbers.
 */
export function drawTimeSeries(canvas, { series, windowMs, yFormat = String, emptyText = "no data yet", note = "", integers = false, now = Date.now() }) {
  const ctx = fitToDisplay(canvas);
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  ctx.clearRect(0, 0, width, height);
  ctx.font = "11px system-ui, sans-serif";

  const from = now - windowMs;
  const visible = series.map((s) => ({ ...s, points: s.points.filter((p) => p.t >= from && p.t <= now) }));
  const values = visible.flatMap((s) => s.points.map((p) => (p.base ?? 0) + p.v));
  // What the chart shows, for people with a screen reader and for the browser test: how many points, from when.
  canvas.dataset.points = String(values.length);
  canvas.dataset.oldest = String(Math.min(...visible.flatMap((s) => s.points.map((p) => p.t)), now));
  // Counts get whole-number grid lines (four steps of a whole number), not 0.25 of a session.
  const yMax = integers ? 4 * niceCeiling(Math.ceil(Math.max(1, ...values) / 4)) : niceCeiling(Math.max(1, ...values));
  const plot = { x: margin.left, y: margin.top, w: width - margin.left - margin.right, h: height - margin.top - margin.bottom };
  const xOf = (t) => plot.x + ((t - from) / windowMs) * plot.w;
  const yOf = (v) => plot.y + plot.h - (v / yMax) * plot.h;

  canvas.dataset.yMax = values.length ? String(yMax) : "";
  drawLegend(ctx, plot, visible, note);
  // No data, no scale: a y axis of 0 to 1 would be made up.
  drawGrid(ctx, plot, values.length ? yMax : null, yFormat, from, windowMs);

  if (values.length === 0) {
    ctx.fillStyle = "#6b7280";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(emptyText, plot.x + plot.w / 2, plot.y + plot.h / 2);
    return;
  }

  for (const s of visible) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = 2;
    if (s.style === "bars") {
      for (const p of s.points.filter((p) => p.v > 0)) {
        const base = p.base ?? 0;
        ctx.fillRect(xOf(p.t) - 2, yOf(base + p.v), 4, Math.max(1, yOf(base) - yOf(base + p.v)));
      }
      continue;
    }

    if (s.style === "dots") {
      for (const p of s.points) {
        ctx.beginPath();
        ctx.arc(xOf(p.t), yOf(p.v), 3, 0, Math.PI * 2);
        ctx.fill();
      }
      continue;
    }

    ctx.beginPath();
    s.points.forEach((p, i) => (i === 0 ? ctx.moveTo(xOf(p.t), yOf(p.v)) : ctx.lineTo(xOf(p.t), yOf(p.v))));
    ctx.stroke();
  }
}

// A canvas drawn at the screen's pixel density, in CSS pixels.
function fitToDisplay(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }

  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

// Grid lines and labels; with yMax null (nothing to show) the time axis only. The labels stay inside the canvas: the
// first time label starts at the plot's left edge, the last ends at its right edge.
function drawGrid(ctx, plot, yMax, yFormat, from, windowMs) {
  ctx.strokeStyle = "#e3e5ea";
  ctx.fillStyle = "#6b7280";
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = Math.round(plot.y + plot.h - (i / 4) * plot.h) + 0.5;
    ctx.beginPath();
    ctx.moveTo(plot.x, y);
    ctx.lineTo(plot.x + plot.w, y);
    ctx.stroke();
    if (yMax != null) {
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      ctx.fillText(yFormat((yMax * i) / 4), plot.x - 6, y);
    }
  }

  ctx.textBaseline = "top";
  for (let i = 0; i <= 4; i++) {
    const t = from + (windowMs * i) / 4;
    ctx.textAlign = i === 0 ? "left" : i === 4 ? "right" : "center";
    ctx.fillText(new Date(t).toLocaleTimeString([], { hourCycle: "h23" }), plot.x + (i / 4) * plot.w, plot.y + plot.h + 5);
  }
}

function drawLegend(ctx, plot, series, note) {
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  let x = plot.x;
  for (const s of series) {
    ctx.fillStyle = s.color;
    ctx.fillRect(x, 6, 10, 10);
    ctx.fillStyle = "#1d2330";
    ctx.fillText(s.name, x + 14, 11);
    x += 24 + ctx.measureText(s.name).width;
  }

  if (note) {
    ctx.fillStyle = "#6b7280";
    ctx.fillText(note, x, 11);
  }
}

// 1, 2, 5, 10, 20, 50, ...: a y axis whose labels read well.
function niceCeiling(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (value <= step * magnitude) {
      return step * magnitude;
    }
  }

  return 10 * magnitude;
}
