// Customer 360: calls the documented API with the user's bearer token; no build step, no dependencies.
"use strict";

const $ = (id) => document.getElementById(id);
let current = null;

function token() {
  const value = $("token").value.trim();
  if (value) sessionStorage.setItem("customer360.token", value);
  return value || sessionStorage.getItem("customer360.token") || "";
}

async function call(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + token(), Accept: "application/json" } });
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  return { status: response.status, body };
}

function setStatus(text, isError) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", Boolean(isError));
}

function describe(result) {
  const message = result.body && result.body.message ? result.body.message : "HTTP " + result.status;
  return {
    "not-found": "Nothing found.",
    "unauthorized": "The access token is missing or not valid.",
    "forbidden": "The access token does not grant this data.",
    "invalid_customer_id": "A customer id is a positive whole number.",
    "rate_limited": "Too many requests: try again in a moment.",
    "unavailable": "A backing service is unavailable: try again shortly.",
  }[message] || message;
}

function renderProfile(profile) {
  const list = $("profile");
  list.replaceChildren();
  const rows = [
    ["Customer", profile.customer_id], ["Name", profile.name], ["Email", profile.email], ["Gender", profile.gender],
    ["Total spend", profile.total_spend], ["Transactions", profile.total_transactions], ["Average order", profile.avg_order_value],
    ["First purchase", profile.first_purchase], ["Last purchase", profile.last_purchase], ["Favourite category", profile.favorite_category],
  ];
  for (const [label, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value === null || value === undefined ? "—" : String(value);
    list.append(dt, dd);
  }
  $("profile-section").hidden = false;
}

function renderSpend(summaries) {
  const holder = $("spend-chart");
  holder.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  const width = 640, height = 220, pad = 30;
  const max = Math.max(...summaries.map((s) => s.total_amount), 1);
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  const total = summaries.reduce((sum, s) => sum + s.total_amount, 0);
  svg.setAttribute("aria-label", `Spend on ${summaries.length} days from ${summaries[0].date} to ${summaries[summaries.length - 1].date}, ${total.toFixed(2)} in total`);
  const step = (width - 2 * pad) / summaries.length;
  summaries.forEach((s, i) => {
    const barHeight = (s.total_amount / max) * (height - 2 * pad);
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", String(pad + i * step + step * 0.1));
    rect.setAttribute("y", String(height - pad - barHeight));
    rect.setAttribute("width", String(Math.max(1, step * 0.8)));
    rect.setAttribute("height", String(barHeight));
    rect.setAttribute("data-date", s.date);
    const title = document.createElementNS(ns, "title");
    title.textContent = `${s.date}: ${s.total_amount} (${s.total_items} items, ${s.top_category})`;
    rect.append(title);
    svg.append(rect);
  });
  for (const [x, label, anchor] of [[pad, summaries[0].date, "start"], [width - pad, summaries[summaries.length - 1].date, "end"]]) {
    const text = document.createElementNS(ns, "text");
    text.setAttribute("x", String(x));
    text.setAttribute("y", String(height - 8));
    text.setAttribute("text-anchor", anchor);
    text.textContent = label;
    svg.append(text);
  }
  holder.append(svg);
  $("spend-section").hidden = false;
}

function renderEvents(events) {
  const list = $("events");
  list.replaceChildren();
  const type = $("event-type").value;
  const shown = events.filter((e) => !type || e.event_type === type);
  for (const e of shown) {
    const item = document.createElement("li");
    item.dataset.type = e.event_type;
    const kind = document.createElement("span");
    kind.className = "type";
    kind.textContent = e.event_type;
    const product = document.createElement("span");
    product.textContent = e.product_id === null ? "no product" : "product " + e.product_id;
    const when = document.createElement("div");
    when.className = "when";
    when.textContent = e.event_timestamp;
    item.append(kind, product, when);
    list.append(item);
  }
  if (shown.length === 0) {
    const item = document.createElement("li");
    item.textContent = "No events for these filters.";
    list.append(item);
  }
  $("events-section").hidden = false;
}

async function loadEvents() {
  const query = new URLSearchParams({ limit: "1000" });
  if ($("from-date").value) query.set("fromDate", $("from-date").value);
  if ($("to-date").value) query.set("toDate", $("to-date").value);
  const result = await call(`/events/${encodeURIComponent(current)}?${query}`);
  if (result.status === 200) renderEvents(result.body.data.events);
  else if (result.status === 404) renderEvents([]);
  else setStatus("Events: " + describe(result), true);
}

async function show(event) {
  event.preventDefault();
  current = $("customer-id").value.trim();
  for (const id of ["profile-section", "spend-section", "events-section"]) $(id).hidden = true;
  setStatus("Loading…", false);
  const [profile, spend] = await Promise.all([call(`/customer/${encodeURIComponent(current)}`), call(`/summary/customer/${encodeURIComponent(current)}`)]);
  if (profile.status !== 200) {
    setStatus("Profile: " + describe(profile), true);
    return;
  }
  renderProfile(profile.body.data);
  if (spend.status === 200) renderSpend(spend.body.data.summaries);
  await loadEvents();
  setStatus(`Customer ${current} loaded.`, false);
}

document.addEventListener("DOMContentLoaded", () => {
  $("lookup").addEventListener("submit", show);
  $("event-filters").addEventListener("submit", async (event) => { event.preventDefault(); if (current) await loadEvents(); });
  $("event-type").addEventListener("change", async () => { if (current) await loadEvents(); });
});
