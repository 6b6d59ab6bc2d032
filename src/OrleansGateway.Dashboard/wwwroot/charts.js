// Small time-series charts drawn on a <canvas> with the 2D API: no library, nothing to build.

const margin = { left: 46, right: 12, top: 24, bottom: 22 };

/**
 * Draws series of points over the last `windowMs` milliseconds.
 * series: [{ name, color, points: [{ t: epoch ms, v: number }], style: "line" | "dots" }]
 */
export function drawTimeSeries(canvas, { series, windowMs, yFormat = String, emptyText = "no data yet", now = Date.now() }) {
  const ctx = fitToDisplay(canvas);
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  ctx.clearRect(0, 0, width, height);
  ctx.font = "11px system-ui, sans-serif";

  const from = now - windowMs;
  const visible = series.map((s) => ({ ...s, points: s.points.filter((p) => p.t >= from && p.t <= now) }));
  const values = visible.flatMap((s) => s.points.map((p) => p.v));
  // What the chart shows, for people with a screen reader and for the browser test: how many points, from when.
  canvas.dataset.points = String(values.length);
  canvas.dataset.oldest = String(Math.min(...visible.flatMap((s) => s.points.map((p) => p.t)), now));
  const yMax = niceCeiling(Math.max(1, ...values));
  const plot = { x: margin.left, y: margin.top, w: width - margin.left - margin.right, h: height - margin.top - margin.bottom };
  const xOf = (t) => plot.x + ((t - from) / windowMs) * plot.w;
  const yOf = (v) => plot.y + plot.h - (v / yMax) * plot.h;

  drawGrid(ctx, plot, yMax, yFormat, from, windowMs);
  drawLegend(ctx, plot, visible);

  if (values.length === 0) {
    ctx.fillStyle = "#6b7280";
    ctx.textAlign = "center";
    ctx.fillText(emptyText, plot.x + plot.w / 2, plot.y + plot.h / 2);
    return;
  }

  for (const s of visible) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = 2;
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

function drawGrid(ctx, plot, yMax, yFormat, from, windowMs) {
  ctx.strokeStyle = "#e3e5ea";
  ctx.fillStyle = "#6b7280";
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    const y = Math.round(plot.y + plot.h - (i / 4) * plot.h) + 0.5;
    ctx.beginPath();
    ctx.moveTo(plot.x, y);
    ctx.lineTo(plot.x + plot.w, y);
    ctx.stroke();
    ctx.fillText(yFormat(v), plot.x - 6, y);
  }

  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (let i = 0; i <= 4; i++) {
    const t = from + (windowMs * i) / 4;
    const x = plot.x + (i / 4) * plot.w;
    ctx.fillText(new Date(t).toLocaleTimeString([], { hourCycle: "h23" }), x, plot.y + plot.h + 5);
  }
}

function drawLegend(ctx, plot, series) {
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
