// The staff page: the task ledger with filters, each deadline's status, and the timeline image.
// Everything from the server is set through textContent.
"use strict";

const ROLE_LABELS = [["lead", "牵头"], ["support", "配合"], ["shared", "按职责分工负责"], ["implement", "负责落实"]];
const STATE_LABELS = { overdue: "期限已过", due_today: "今天到期", upcoming: "未到期", started: "已开始", not_started: "未开始",
                       done: "已完成" };

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function getJson(url) {
  const response = await fetch(url);
  if (response.status === 401) {
    window.location.reload(); // the cookie expired: the server shows the login form
    throw new Error("unauthorized");
  }
  if (!response.ok) {
    let message = "服务器出错了，请稍后再试。";
    try { message = (await response.json()).error || message; } catch (ignored) { /* keep the generic message */ }
    throw new Error(message);
  }
  return response.json();
}

function filterQuery(form) {
  const query = new URLSearchParams();
  for (const [name, value] of new FormData(form)) if (String(value).trim()) query.set(name, String(value).trim());
  return query;
}

async function markDone(task, deadline, item) {
  const response = await fetch("api/done", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ doc: task.doc, ref: task.ref, date: deadline.date }),
  });
  if (!response.ok) {
    document.getElementById("status").textContent = "未能标记完成，请稍后再试。";
    return;
  }
  item.replaceWith(deadlineItem(task, { ...deadline, done: (await response.json()).done }));
  const timeline = document.getElementById("timeline");
  const redrawn = new URL(timeline.src);
  redrawn.searchParams.set("drawn", String(Date.now())); // a new URL, so the image is fetched again, now with the mark
  timeline.src = redrawn.toString();
}

function deadlineItem(task, deadline) {
  const item = element("li");
  const state = deadline.done ? "done" : deadline.status;
  item.append(element("span", `state state-${state}`, STATE_LABELS[state] || state),
              element("span", "deadline-when", `${deadline.text}（${deadline.status_text}）`),
              element("span", "deadline-what", deadline.what));
  if (deadline.done) {
    item.append(element("span", "deadline-done", `${deadline.done.by} 于 ${deadline.done.at.slice(0, 10)} 标记完成`));
  } else if (deadline.kind === "deadline") {
    const button = element("button", "link-button mark-done", "标记完成");
    button.type = "button";
    button.setAttribute("aria-label", `标记 ${task.ref} ${deadline.text} 已完成`);
    button.addEventListener("click", () => markDone(task, deadline, item));
    item.append(button);
  }
  return item;
}

function taskCard(task) {
  const card = element("article", "task");
  card.append(element("h4", null, `${task.ref} ${task.title}`));
  const roles = element("dl", "roles");
  for (const [key, label] of ROLE_LABELS) {
    if (task[key].length) roles.append(element("dt", null, label), element("dd", null, task[key].join("、")));
  }
  card.append(roles);
  if (task.deadlines.length) {
    const list = element("ul", "deadlines");
    for (const deadline of task.deadlines) list.append(deadlineItem(task, deadline));
    card.append(list);
  } else {
    card.append(element("p", "hint", "未写明期限"));
  }
  return card;
}

function renderLedger(tasks, titles) {
  const ledger = document.getElementById("ledger");
  ledger.replaceChildren();
  let currentDoc = null;
  for (const task of tasks) {
    if (task.doc !== currentDoc) {
      currentDoc = task.doc;
      ledger.append(element("h3", "doc-title", `《${titles[task.doc] || task.doc}》`));
    }
    ledger.append(taskCard(task));
  }
  if (!tasks.length) ledger.append(element("p", "hint", "没有符合条件的任务。"));
}

function fillChoices(allTasks) {
  const units = new Set(allTasks.flatMap((t) => [...t.lead, ...t.support, ...t.shared, ...t.implement]));
  const datalist = document.getElementById("dept-options");
  for (const unit of [...units].sort()) datalist.append(element("option", null, unit));
  const years = new Set(allTasks.flatMap((t) => t.deadlines.map((d) => d.date.slice(0, 4))));
  const select = document.getElementById("year");
  for (const year of [...years].sort()) select.append(element("option", null, year));
}

function setFormFrom(query) {
  document.getElementById("dept").value = query.get("dept") || "";
  document.getElementById("year").value = query.get("year") || "";
  document.getElementById("overdue").checked = query.get("overdue") === "true";
}

async function show(query, titles) {
  const status = document.getElementById("status");
  status.textContent = "正在载入……";
  try {
    const tasks = await getJson(`api/tasks?${query}`);
    renderLedger(tasks, titles);
    status.textContent = `共 ${tasks.length} 项任务。`;
    const timelineUrl = `staff/timeline.svg?${query}`;
    document.getElementById("timeline").src = timelineUrl;
    document.getElementById("timeline-link").href = timelineUrl;
  } catch (error) {
    status.textContent = error.message;
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  const form = document.getElementById("filters");
  const query = new URLSearchParams(window.location.search);
  try {
    const [health, sources, allTasks] = await Promise.all([getJson("healthz"), getJson("api/sources"), getJson("api/tasks")]);
    document.getElementById("today").textContent = `期限状态按 ${health.today} 计算。`;
    const titles = Object.fromEntries(sources.map((doc) => [doc.id, doc.title]));
    fillChoices(allTasks);
    setFormFrom(query);
    await show(query, titles);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = filterQuery(form);
      history.replaceState(null, "", chosen.toString() ? `?${chosen}` : window.location.pathname);
      await show(chosen, titles);
    });
  } catch (error) {
    document.getElementById("status").textContent = error.message;
  }
});
