// The live page: renders each `state` event of /api/events (see dashboard/server.py).
// Each alert row carries data-alert-id, data-record-time (when the pipeline wrote it) and
// data-shown-at (when this page first drew it, epoch ms): the page's freshness, measurable.
'use strict';

const shownAt = new Map();  // alert id -> when it was first drawn
const charts = {};
const number = new Intl.NumberFormat('en-US');
const money = new Intl.NumberFormat('en-US', {minimumFractionDigits: 2, maximumFractionDigits: 2});

function utcTime(ms, withDate) {
  const iso = new Date(ms).toISOString();
  return withDate ? iso.slice(0, 16).replace('T', ' ') : iso.slice(11, 19);
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fillTable(id, rows, makeRow) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren(...rows.map(makeRow));
}

function row(cells, attributes) {
  const tr = document.createElement('tr');
  tr.append(...cells);
  for (const [name, value] of Object.entries(attributes || {})) tr.setAttribute(name, value);
  return tr;
}

function setText(id, text, className) {
  const element = document.getElementById(id);
  element.textContent = text;
  if (className !== undefined) element.className = className;
}

function chart(id, config) {
  if (typeof Chart === 'undefined') return null;  // the script failed to load: tables still work
  if (!charts[id]) charts[id] = new Chart(document.getElementById(id), config);
  return charts[id];
}

function drawWindows(windows) {
  fillTable('windows-table', windows.slice().reverse(), w => row([
    cell(`${utcTime(w.window_start, true)}–${utcTime(w.window_end).slice(0, 5)}`),
    cell(w.pane || ''), cell(number.format(w.orders), 'num'),
    cell(number.format(w.units), 'num'), cell(money.format(w.revenue), 'num'),
  ], {'data-window-start': w.window_start, 'data-orders': w.orders, 'data-revenue': w.revenue}));
  const windowsChart = chart('windows-chart', {
    data: {labels: [], datasets: [
      {type: 'bar', label: 'orders', data: [], yAxisID: 'orders', backgroundColor: '#5b8def'},
      {type: 'line', label: 'revenue', data: [], yAxisID: 'revenue', borderColor: '#e0873a',
       backgroundColor: '#e0873a'}]},
    options: {animation: false, maintainAspectRatio: false,
              scales: {orders: {position: 'left', beginAtZero: true},
                       revenue: {position: 'right', beginAtZero: true,
                                 grid: {drawOnChartArea: false}}}},
  });
  if (windowsChart) {
    windowsChart.data.labels = windows.map(w => utcTime(w.window_start).slice(0, 5));
    windowsChart.data.datasets[0].data = windows.map(w => w.orders);
    windowsChart.data.datasets[1].data = windows.map(w => w.revenue);
    windowsChart.update();
  }
}

function drawDeadLetters(byReason) {
  const entries = Object.entries(byReason).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  fillTable('dead-letters', entries, ([reason, count]) => row(
    [cell(reason), cell(number.format(count), 'num')], {'data-reason': reason, 'data-count': count}));
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  setText('dead-letters-total', number.format(total));
  const deadLettersChart = chart('dead-letters-chart', {
    type: 'bar',
    data: {labels: [], datasets: [{label: 'dead letters', data: [], backgroundColor: '#d9534f'}]},
    options: {animation: false, maintainAspectRatio: false, indexAxis: 'y',
              plugins: {legend: {display: false}}, scales: {x: {beginAtZero: true}}},
  });
  if (deadLettersChart) {
    // One bar per reason, each tall enough for its label.
    deadLettersChart.canvas.parentNode.style.height = `${Math.max(150, 40 + 18 * entries.length)}px`;
    deadLettersChart.data.labels = entries.map(([reason]) => reason);
    deadLettersChart.data.datasets[0].data = entries.map(([, count]) => count);
    deadLettersChart.update();
  }
}

function drawAlerts(alerts, byRule) {
  const now = Date.now();
  for (const alert of alerts) if (!shownAt.has(alert.alert_id)) shownAt.set(alert.alert_id, now);
  fillTable('alerts', alerts, a => row([
    cell(utcTime(a.detected_at)), cell(a.rule), cell(a.card_id), cell(a.order_ids.join(', ')),
    cell(Object.entries(a.details || {}).map(([k, v]) => `${k}=${v}`).join(' ')),
  ], {'data-alert-id': a.alert_id, 'data-rule': a.rule, 'data-card-id': a.card_id,
      'data-order-ids': a.order_ids.join(','), 'data-record-time': a.record_time,
      'data-shown-at': shownAt.get(a.alert_id)}));
  const total = Object.values(byRule).reduce((sum, n) => sum + n, 0);
  setText('alerts-total', number.format(total));
  setText('alerts-by-rule', Object.entries(byRule).sort().map(([r, n]) => `${r} ${n}`).join(' · '));
}

function drawGroup(group) {
  const rate = value => (value === null || value === undefined ? '–' : number.format(value));
  setText('orders-in-rate', rate(group.orders_in_per_s));
  setText('orders-out-rate', rate(group.orders_out_per_s));
  const lagging = group.lag !== null && group.lag > group.lag_warning;
  setText('lag-total', group.lag === null ? '–' : number.format(group.lag),
          lagging ? 'kpi warning' : 'kpi');
  setText('group', `${group.id} (${group.state || 'state unknown'}, ` +
          `${group.members === null ? '?' : group.members} members)`, 'kpi small');
  fillTable('lag-table', group.partitions, p => row([
    cell(p.topic), cell(p.partition, 'num'), cell(number.format(p.end_offset), 'num'),
    cell(p.committed === null ? 'none' : number.format(p.committed), 'num'),
    cell(number.format(p.lag), 'num'),
  ], {'data-partition': p.partition, 'data-lag': p.lag,
      class: lagging ? 'lag-warning' : ''}));
}

function draw(state) {
  setText('status', state.status.message, `status ${state.status.code}`);
  document.getElementById('status').dataset.code = state.status.code;
  drawGroup(state.group);
  drawWindows(state.windows);
  drawDeadLetters(state.dead_letters_by_reason);
  drawAlerts(state.alerts, state.alerts_by_rule);
  fillTable('top-products', state.top_products, p => row([
    cell(p.product_id), cell(number.format(p.orders), 'num'), cell(number.format(p.units), 'num'),
    cell(money.format(p.revenue), 'num')], {'data-product-id': p.product_id}));
  setText('updated', utcTime(state.generated_at) + ' UTC');
  setText('topics', Object.values(state.topics).join(', ') + ` on ${state.brokers}`);
}

function connect() {
  const events = new EventSource('/api/events');
  events.addEventListener('state', message => {
    setText('connection', 'live', 'muted');
    draw(JSON.parse(message.data));
  });
  events.onerror = () => setText('connection', 'dashboard server unreachable; reconnecting…', 'error');
}

connect();
