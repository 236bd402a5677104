// The studio's own script: no libraries. Every page works without it; it adds checking as you type, the
// live SMS counter of the texts table, and keyboard short-cuts.
"use strict";

// --- SMS arithmetic: the same rules as conversations/sms.py and the validator (tests check they agree) ---
const RhiSms = (() => {
  let rules = null;
  let basic = new Set();
  let extension = new Set();
  const placeholder = /\{([a-z][a-z0-9_]*)\}/g;
  const lineBreaks = /\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/;

  function configure(given) {
    rules = given;
    basic = new Set(Array.from(given.basic));
    extension = new Set(Array.from(given.extension));
  }
  function isGsm7(text) {
    for (const ch of text) if (!basic.has(ch) && !extension.has(ch)) return false;
    return true;
  }
  function encoding(text) {
    return isGsm7(text) ? "GSM-7" : "UCS-2";
  }
  function units(text, kind) {
    const found = [];
    for (const ch of text) {
      if (kind === "GSM-7") found.push(extension.has(ch) ? 2 : 1);
      else found.push(ch.codePointAt(0) > 0xffff ? 2 : 1);
    }
    return found;
  }
  function length(text) {
    return units(text, encoding(text)).reduce((a, b) => a + b, 0);
  }
  function segments(text) {
    const kind = encoding(text);
    const counted = units(text, kind);
    const single = kind === "GSM-7" ? rules.gsm7Single : rules.ucs2Single;
    const part = kind === "GSM-7" ? rules.gsm7Part : rules.ucs2Part;
    if (counted.reduce((a, b) => a + b, 0) <= single) return 1;
    let parts = 1;
    let used = 0;
    for (const unit of counted) {
      if (used + unit > part) {
        parts += 1;
        used = 0;
      }
      used += unit;
    }
    return parts;
  }
  function nonGsm7(text) {
    const seen = [];
    for (const ch of text) if (!basic.has(ch) && !extension.has(ch) && !seen.includes(ch)) seen.push(ch);
    return seen;
  }
  function asSent(body) {
    return body.replace(placeholder, "x".repeat(rules.placeholderLength));
  }
  function alarmPattern(word) {
    const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/ /g, "\\s+");
    return new RegExp("(?<![\\p{L}\\p{N}_-])" + escaped + "(?![\\p{L}\\p{N}_-])", "iu");
  }
  function alarmingWords(body, language) {
    const firstLine = body.split(lineBreaks).find((line) => line.trim() !== "") || "";
    return (rules.alarmWords[language] || []).filter((word) => alarmPattern(word).test(firstLine));
  }
  return { configure, isGsm7, encoding, length, segments, nonGsm7, asSent, alarmingWords };
})();
window.RhiSms = RhiSms;

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

// --- the texts table: a live SMS counter under each message ---------------------------------------------
function setUpTexts() {
  const rulesElement = document.getElementById("sms-rules");
  const form = document.getElementById("texts-form");
  if (!rulesElement || !form) return;
  RhiSms.configure(JSON.parse(rulesElement.textContent));

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
  function update(message, language) {
    const whole = body(message, language);
    const sent = RhiSms.asSent(whole);
    const parts = RhiSms.segments(sent);
    const kind = RhiSms.encoding(sent);
    let words = `${parts} SMS part${parts === 1 ? "" : "s"} · ${kind}`;
    if (kind === "UCS-2") words += ` (because of ${RhiSms.nonGsm7(sent).slice(0, 3).join(" ")})`;
    const alarming = RhiSms.alarmingWords(whole, language);
    if (alarming.length) words += ` · ⚠ first line shows “${alarming.join("”, “")}” on a locked phone`;
    for (const row of rowsOf(message)) {
      const counter = row.querySelector(`output[data-counter="${language}"]`);
      if (counter) {
        counter.textContent = words;
        counter.classList.toggle("long", parts > 2);
        counter.classList.toggle("alarming", alarming.length > 0);
      }
    }
  }
  form.addEventListener("input", (event) => {
    const cell = event.target.closest("textarea[data-language]");
    if (!cell) return;
    const row = cell.closest("tr");
    update(row.dataset.message, cell.dataset.language);
    if (cell.dataset.language === "cy") {
      const reviewed = row.querySelector('input[type="checkbox"]');
      if (reviewed && reviewed.checked) {
        reviewed.checked = false;
        row.querySelector(".review-note").textContent = "The Welsh changed: tick again once a fluent speaker has read it.";
      }
    }
  });
  const messages = new Set(Array.from(form.querySelectorAll("tr[data-message]")).map((row) => row.dataset.message));
  for (const message of messages) for (const language of ["en", "cy"]) update(message, language);
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

document.addEventListener("DOMContentLoaded", () => {
  setUpEditor();
  setUpTexts();
  setUpSimulator();
});
