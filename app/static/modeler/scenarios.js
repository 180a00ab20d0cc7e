/* The scenario page: says at once where the JSON is wrong (line and column), runs the scenario as typed against the
   latest version or the owner's drafts and shows the result per step. */
(function () {
  "use strict";
  var form = document.getElementById("scenario-editor");
  if (!form) { return; }
  var text = document.getElementById("scenario-text");
  var jsonState = document.getElementById("json-state");
  var result = document.getElementById("result");
  var runState = document.getElementById("run-state");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;

  function lineOf(source, position) {
    var line = 1, column = 1;
    for (var i = 0; i < position && i < source.length; i++) {
      if (source[i] === "\n") { line++; column = 1; } else { column++; }
    }
    return { line: line, column: column };
  }

  function checkJson() {
    try {
      JSON.parse(text.value);
      jsonState.textContent = "The JSON reads correctly.";
      text.removeAttribute("aria-invalid");
      return true;
    } catch (err) {
      var match = /position (\d+)/.exec(err.message);
      var where = match ? lineOf(text.value, Number(match[1])) : null;
      jsonState.textContent = "Not valid JSON" + (where ? " at line " + where.line + ", column " + where.column : "") +
        ": " + err.message.replace(/^JSON\.parse: /, "").replace(/ in JSON at position \d+.*$/, "");
      text.setAttribute("aria-invalid", "true");
      return false;
    }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  function show(body) {
    result.innerHTML = "";
    result.appendChild(el("p", { id: "verdict", "class": "notice " + (body.passed ? "ok" : "warn"),
      text: body.passed ? "Passed: every step as expected." : "Failed at " + body.failure }));
    var rows = body.steps.map(function (s) {
      var state = s.passed === true ? "passed" : (s.passed === false ? "failed" : "not run");
      return el("tr", { "data-step": String(s.number), "data-state": state }, [
        el("td", { text: String(s.number) }), el("td", { text: s.action }),
        el("td", {}, [el("span", { "class": "badge " + (s.passed === true ? "approve" : (s.passed === false ? "stop" : "")),
          text: state })]),
        el("td", { text: s.message ? s.message + (s.element_id ? " [" + s.element_id + "]" : "") : "" })]);
    });
    var started = {};
    (body.effects || []).forEach(function (e) {
      var what = e.kind === "start_process" ? "started " + e.process : (e.kind === "signal_parent" ? "signalled " + e.name + " to its parent" : e.kind + " " + (e.connector || ""));
      started[what] = (started[what] || 0) + 1;
    });
    var effects = Object.keys(started).map(function (k) { return k + (started[k] > 1 ? " ×" + started[k] : ""); });
    if (effects.length) {
      result.appendChild(el("p", { id: "effects", "class": "small muted",
        text: "Recorded, not run (the application does these beside the engine): " + effects.join("; ") + "." }));
    }
    result.appendChild(el("table", { "class": "list", id: "steps" }, [
      el("thead", {}, [el("tr", {}, ["Step", "Action", "Result", "What happened"].map(function (h) {
        return el("th", { text: h }); }))]), el("tbody", {}, rows)]));
  }

  function run(against) {
    if (!checkJson()) { runState.textContent = "Fix the JSON first."; return; }
    runState.textContent = "Running…";
    fetch(form.dataset.run, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ text: text.value, against: against })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (r) {
      if (!r.ok) {
        runState.textContent = "";
        result.innerHTML = "";
        result.appendChild(el("p", { id: "verdict", "class": "notice warn", text: r.body.message || "The scenario could not run." }));
        return;
      }
      runState.textContent = "Ran in " + r.body.seconds + " s against " + (against === "drafts" ? "your drafts" : "the latest version") + ".";
      show(r.body);
    }).catch(function () { runState.textContent = "The server could not be reached."; });
  }

  text.addEventListener("input", checkJson);
  document.getElementById("run-latest").addEventListener("click", function () { run("latest"); });
  document.getElementById("run-drafts").addEventListener("click", function () { run("drafts"); });
  checkJson();
}());
