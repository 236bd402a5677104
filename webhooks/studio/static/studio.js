// The studio's own script. Every page works without it; it adds checking as you type, the live SMS counter
// of the texts table (counted by the server: one counter, conversations/sms.py), and keyboard short-cuts.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// --- the YAML editor ---------------------------------------------------------------------------------
function setUpEditor() {
  const text = document.getElementById("yaml-text");
  if (!text) return;
  const gutter = document.getElementById("gutter");
  const problems = document.getElementById("problems");
  const size = document.getElementById("size");
  const form = document.getElementById("editor-form");
  let marks = new Map();
  let sequence = 0;
  let timer = null;

  function drawGutter() {
    const count = text.value.split("\n").length;
    gutter.textContent = "";
    for (let n = 1; n <= count; n += 1) {
      const line = document.createElement("span");
      line.textContent = String(n);
      if (marks.has(n)) line.className = marks.get(n);
      gutter.appendChild(line);
      gutter.appendChild(document.createTextNode("\n"));
    }
    gutter.scrollTop = text.scrollTop;
    const bytes = new TextEncoder().encode(text.value).length;
    const limit = Number(text.dataset.maxBytes);
    size.textContent = `${Math.ceil(bytes / 1024)} of ${Math.round(limit / 1024)} KiB`;
    size.classList.toggle("over", bytes > limit);
  }

  function goToLine(number) {
    const lines = text.value.split("\n");
    const line = Math.max(1, Math.min(number, lines.length));
    let start = 0;
    for (let n = 0; n < line - 1; n += 1) start += lines[n].length + 1;
    text.focus();
    text.setSelectionRange(start, start + lines[line - 1].length);
    const lineHeight = parseFloat(getComputedStyle(text).lineHeight) || 18;
    text.scrollTop = Math.max(0, (line - 4) * lineHeight);
    gutter.scrollTop = text.scrollTop;
  }

  function showProblems(found, elsewhere) {
    marks = new Map();
    const heading = document.createElement("h2");
    heading.textContent = found.length ? "What needs looking at in this file" : "No problems in this file";
    const list = document.createElement("ul");
    for (const problem of found) {
      if (problem.line && (problem.level === "error" || !marks.has(problem.line))) marks.set(problem.line, problem.level);
      const item = document.createElement("li");
      item.className = problem.level;
      if (problem.line) {
        const link = document.createElement("a");
        link.href = "#editor";
        link.className = "goto-line";
        link.dataset.line = problem.line;
        link.textContent = `Line ${problem.line}`;
        item.appendChild(link);
      } else {
        const whole = document.createElement("span");
        whole.textContent = "Whole file";
        item.appendChild(whole);
      }
      const level = document.createElement("span");
      level.className = "level";
      level.textContent = problem.level === "error" ? " Error:" : " Warning:";
      item.appendChild(level);
      item.appendChild(document.createTextNode(" " + problem.message));
      list.appendChild(item);
    }
    problems.replaceChildren(heading, list);
    if (elsewhere) {
      const more = document.createElement("p");
      more.className = "elsewhere";
      more.textContent = `And ${elsewhere} error(s) in other files of the draft.`;
      problems.appendChild(more);
    }
    drawGutter();
  }

  async function checkNow() {
    const mine = ++sequence;
    try {
      const response = await fetch(text.dataset.checkUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ kind: text.dataset.kind, name: text.dataset.name, text: text.value }),
        credentials: "same-origin",
      });
      if (!response.ok || mine !== sequence) return;
      const answer = await response.json();
      showProblems(answer.problems, answer.elsewhere);
    } catch (error) {
      // Offline or logged out: the check on save still runs.
    }
  }

  text.addEventListener("input", () => {
    drawGutter();
    clearTimeout(timer);
    timer = setTimeout(checkNow, 500);
  });
  text.addEventListener("scroll", () => {
    gutter.scrollTop = text.scrollTop;
  });
  problems.addEventListener("click", (event) => {
    const link = event.target.closest(".goto-line");
    if (!link) return;
    event.preventDefault();
    goToLine(Number(link.dataset.line));
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  for (const problem of problems.querySelectorAll("li")) {
    const link = problem.querySelector(".goto-line");
    if (link) marks.set(Number(link.dataset.line), problem.className);
  }
  drawGutter();
  const wanted = Number(new URLSearchParams(window.location.search).get("line"));
  if (wanted) goToLine(wanted);
}

// --- the texts table: a live SMS counter under each message, counted by the server ------------------------
function setUpTexts() {
  const form = document.getElementById("texts-form");
  if (!form) return;
  const waiting = new Map(); // "message language" -> [message, language], sent together after a pause
  let timer = null;
  let sequence = 0;

  function rowsOf(message) {
    return Array.from(form.querySelectorAll("tr")).filter((row) => row.dataset.message === message);
  }
  function body(message, language) {
    const lines = [];
    let number = 0;
    for (const row of rowsOf(message)) {
      const cell = row.querySelector(`textarea[data-language="${language}"]`);
      if (cell.dataset.numbered === "yes") {
        number += 1;
        lines.push(`${number}. ${cell.value}`);
      } else if (number === 0) {
        lines.push(cell.value);
      }
    }
    return lines.join("\n");
  }
  async function countNow() {
    const mine = ++sequence;
    const asked = Array.from(waiting.values());
    waiting.clear();
    const messages = asked.map(([message, language]) => ({ key: message, language, body: body(message, language) }));
    try {
      const response = await fetch(form.dataset.countUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ messages }),
        credentials: "same-origin",
      });
      if (!response.ok) return;
      const answer = await response.json();
      for (const count of answer.counts) {
        for (const row of rowsOf(count.key)) {
          const counter = row.querySelector(`output[data-counter="${count.language}"]`);
          if (!counter) continue;
          counter.textContent = count.words;
          counter.classList.toggle("long", count.parts > 2);
          counter.classList.toggle("alarming", count.alarming);
        }
      }
      if (mine === sequence) form.dataset.counted = String(mine);
    } catch (error) {
      // Offline or logged out: the counter shows again when the page is saved.
    }
  }
  form.addEventListener("input", (event) => {
    const cell = event.target.closest("textarea[data-language]");
    if (!cell) return;
    const row = cell.closest("tr");
    waiting.set(`${row.dataset.message} ${cell.dataset.language}`, [row.dataset.message, cell.dataset.language]);
    delete form.dataset.counted;
    clearTimeout(timer);
    timer = setTimeout(countNow, 250);
    if (cell.dataset.language === "cy") {
      const reviewed = row.querySelector('input[type="checkbox"]');
      if (reviewed && reviewed.checked) {
        reviewed.checked = false;
        row.querySelector(".review-note").textContent = "The Welsh changed: tick again once a fluent speaker has read it.";
      }
    }
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

// --- the simulator ---------------------------------------------------------------------------------------
function setUpSimulator() {
  const form = document.getElementById("sim-form");
  if (!form) return;
  const chat = document.getElementById("chat");
  if (chat && chat.lastElementChild) chat.lastElementChild.scrollIntoView({ block: "nearest" });
  const restart = form.querySelector('button[value="restart"]');
  for (const select of form.querySelectorAll(".sim-settings select")) {
    select.addEventListener("change", () => form.requestSubmit(restart));
  }
}

// --- the diagram: laid out by ELK (static/vendor/elk.bundled.js), drawn here as SVG --------------------------
const SVG = "http://www.w3.org/2000/svg";
const DIAGRAM = { boxWidth: 230, lineHeight: 16, padding: 10, labelLine: 14, labelChar: 6.4, fontSize: 12 };

function svgElement(name, attributes, parent) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (parent) parent.appendChild(element);
  return element;
}

async function setUpDiagram() {
  const data = document.getElementById("diagram-data");
  const wrap = document.getElementById("diagram");
  if (!data || !wrap || typeof ELK === "undefined") return;
  const script = JSON.parse(data.textContent);
  const boxHeight = (node) => node.lines.length * DIAGRAM.lineHeight + 2 * DIAGRAM.padding + (node.start ? DIAGRAM.lineHeight : 0);
  const labelWidth = (lines) => Math.max(...lines.map((line) => line.length)) * DIAGRAM.labelChar + 8;
  const graph = {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.layered.spacing.nodeNodeBetweenLayers": "48",
      "elk.layered.spacing.edgeNodeBetweenLayers": "20",
      "elk.spacing.nodeNode": "36",
      "elk.spacing.edgeEdge": "12",
      "elk.spacing.edgeNode": "18",
      "elk.spacing.edgeLabel": "4",
      "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
      "elk.layered.crossingMinimization.strategy": "LAYER_SWEEP",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      // An arrow to a step written earlier in the file goes back up (asking again, changing something):
      // scripts are written in the order a journey reads, so the diagram reads top to bottom the same way.
      "elk.layered.cycleBreaking.strategy": "MODEL_ORDER",
      "elk.layered.thoroughness": "20",
      "elk.edgeLabels.placement": "CENTER",
      "elk.padding": "[top=20,left=20,bottom=20,right=20]",
    },
    // The start first, in the top layer; the rest in the file's order (ELK keeps to it where it costs nothing).
    children: [...script.nodes.filter((node) => node.start), ...script.nodes.filter((node) => !node.start)].map((node) => ({
      id: node.id,
      width: DIAGRAM.boxWidth,
      height: boxHeight(node),
      layoutOptions: node.start ? { "elk.layered.layering.layerConstraint": "FIRST" } : {},
    })),
    edges: script.edges.map((edge) => ({
      id: edge.id,
      sources: [edge.source],
      targets: [edge.target],
      labels: edge.lines.length
        ? [{ text: edge.lines.join("\n"), width: labelWidth(edge.lines), height: edge.lines.length * DIAGRAM.labelLine + 4 }]
        : [],
    })),
  };
  let laid;
  try {
    laid = await new ELK().layout(graph);
  } catch (error) {
    wrap.textContent = "The diagram could not be laid out; the list below shows the same steps.";
    return;
  }
  const nodes = new Map(script.nodes.map((node) => [node.id, node]));
  const svg = svgElement("svg", {
    class: "diagram",
    width: Math.ceil(laid.width),
    height: Math.ceil(laid.height),
    viewBox: `0 0 ${Math.ceil(laid.width)} ${Math.ceil(laid.height)}`,
    role: "img",
    "aria-labelledby": "diagram-title",
  });
  svgElement("title", { id: "diagram-title" }, svg).textContent = `Diagram of the script "${script.name}"`;
  const marker = svgElement("marker", {
    id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse",
  }, svgElement("defs", {}, svg));
  svgElement("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#555" }, marker);
  const arrows = svgElement("g", { class: "arrows" }, svg);
  const labels = svgElement("g", { class: "labels" }, svg);
  for (const edge of laid.edges) {
    for (const section of edge.sections || []) {
      const points = [section.startPoint, ...(section.bendPoints || []), section.endPoint];
      const d = points.map((point, n) => `${n ? "L" : "M"} ${point.x.toFixed(1)} ${point.y.toFixed(1)}`).join(" ");
      svgElement("path", { d, fill: "none", stroke: "#555", "stroke-width": 1.4, "marker-end": "url(#arrow)", "data-edge": edge.id }, arrows);
    }
    for (const label of edge.labels || []) {
      const group = svgElement("g", { class: "edge-label" }, labels);
      svgElement("rect", { x: label.x, y: label.y, width: label.width, height: label.height, rx: 3, fill: "#ffffff", "fill-opacity": 0.95 }, group);
      label.text.split("\n").forEach((line, n) => {
        svgElement("text", { x: label.x + 4, y: label.y + 12 + n * DIAGRAM.labelLine, "font-size": 11, fill: "#333" }, group).textContent = line;
      });
    }
  }
  for (const box of laid.children) {
    const node = nodes.get(box.id);
    const [fill, border] = node.colours;
    const link = svgElement("a", { href: node.link, class: "step", "data-step": node.id }, svg);
    svgElement("title", {}, link).textContent = node.title;
    svgElement("rect", {
      x: box.x, y: box.y, width: box.width, height: box.height, rx: 8, fill, stroke: border, "stroke-width": node.start ? 2.5 : 1.5,
    }, link);
    let y = box.y + DIAGRAM.padding + 12;
    if (node.start) {
      svgElement("text", { x: box.x + DIAGRAM.padding, y, "font-size": 11, "font-weight": "bold", fill: border }, link).textContent = "START";
      y += DIAGRAM.lineHeight;
    }
    for (const line of node.lines) {
      svgElement("text", { x: box.x + DIAGRAM.padding, y, "font-size": DIAGRAM.fontSize, fill: "#222" }, link).textContent = line;
      y += DIAGRAM.lineHeight;
    }
  }
  wrap.replaceChildren(svg);
  wrap.dataset.laidOut = "yes";
}

document.addEventListener("DOMContentLoaded", () => {
  setUpEditor();
  setUpTexts();
  setUpSimulator();
  setUpDiagram();
});
