/** Draws the dashboard charts with uPlot from the page's JSON data block (the tables stay as a fallback). */
export const DASHBOARD_JS = `(() => {
  'use strict';
  const node = document.getElementById('dashboard-data');
  if (!node || typeof uPlot === 'undefined') return;
  const data = JSON.parse(node.textContent || '{}');
  const dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
  const axis = dark ? '#a1aab5' : '#5b6470';
  const grid = dark ? '#323a44' : '#e3e7ec';
  const colours = { change: '#1f77b4', access: '#2ca02c', auth: '#d62728', process: '#9467bd', error: '#ff7f0e', custom: '#8c564b' };
  const width = (el) => Math.max(280, el.clientWidth - 4);
  const charts = [];

  const timelineEl = document.getElementById('timeline-chart');
  if (timelineEl && data.timeline && data.timeline.length > 0) {
    // Every bucket of the period, empty ones included, so the axis spans the period asked for.
    const step = { minute: 60, hour: 3600, day: 86400 }[data.bucket] || 3600;
    const start = Math.floor(Date.parse(data.from) / 1000 / step) * step;
    const end = Math.floor(Date.parse(data.to) / 1000 / step) * step;
    const times = [];
    for (let x = start; x <= end && times.length < 5000; x += step) times.push(x);
    const categories = Array.from(new Set(data.timeline.map((t) => t.category)));
    const counts = new Map(data.timeline.map((t) => [t.category + '|' + Date.parse(t.at) / 1000, t.count]));
    const series = categories.map((c) => times.map((x) => counts.get(c + '|' + x) || 0));
    const opts = {
      width: width(timelineEl), height: 300,
      scales: { x: { time: true } },
      axes: [{ stroke: axis, grid: { stroke: grid } }, { stroke: axis, grid: { stroke: grid } }],
      series: [{}].concat(categories.map((c) => ({ label: c, stroke: colours[c] || '#555', width: 2, points: { show: times.length <= 31 } }))),
    };
    charts.push([new uPlot(opts, [times].concat(series), timelineEl), timelineEl]);
  }

  const reasonsEl = document.getElementById('reasons-chart');
  if (reasonsEl && data.reasons && data.reasons.length > 0) {
    const xs = data.reasons.map((_, i) => i);
    const bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 60] }) : undefined;
    const opts = {
      width: width(reasonsEl), height: 200,
      scales: { x: { time: false, range: [-0.5, xs.length - 0.5] } },
      axes: [
        { stroke: axis, grid: { show: false }, values: (u, splits) => splits.map((i) => (data.reasons[i] ? data.reasons[i].reason : '')), splits: () => xs },
        { stroke: axis, grid: { stroke: grid } },
      ],
      legend: { show: false },
      series: [{}, { label: 'failed logins', stroke: '#d62728', fill: 'rgba(214,39,40,0.35)', paths: bars, points: { show: false } }],
    };
    charts.push([new uPlot(opts, [xs, data.reasons.map((r) => r.count)], reasonsEl), reasonsEl]);
  }

  window.addEventListener('resize', () => {
    for (const [chart, el] of charts) chart.setSize({ width: width(el), height: chart.height });
  });
})();
`;
