/* The process owner's decision table editor: the dmn-js Modeler opened on the file's decision table, then save as
   draft, validate and deploy through the workbench's JSON endpoints, as the diagram modeller does. Problems are
   listed and their cells marked. No inline script (CSP). */
(function () {
  "use strict";

  var root = document.getElementById("decision-editor");
  if (!root) return;
  var box = document.getElementById("table-box");
  var statusLine = document.getElementById("status");
  var fileName = root.getAttribute("data-file");
  var modeler;
  // the status line, elements, the server and save draft / validate / deploy: the diagram modeller's (collabflow.js)
  var workbench = window.collabflow.workbench({ root: root, statusLine: statusLine, xml: xml,
                                               showProblems: showProblems, marked: "cells" });
  var say = workbench.say, h = workbench.h, setDirty = workbench.setDirty;

  // ------------------------------------------------------------------ the table
  /* The decision table view of the file's (first) decision: what a business rule task calls. */
  function openTable() {
    var table = modeler.getViews().filter(function (v) { return v.type === "decisionTable"; })[0];
    if (!table) return Promise.resolve(false);
    var active = modeler.getActiveView();
    if (active && active.element === table.element) return Promise.resolve(true);
    return modeler.open(table).then(function () { return true; });
  }

  function watch() {
    var viewer = modeler.getActiveViewer();
    if (viewer) viewer.get("eventBus").on("elements.changed", function () { setDirty(true); });
  }

  function cellOf(elementId) {
    if (!elementId) return null;
    var safe = window.CSS && CSS.escape ? CSS.escape(elementId) : elementId;
    return box.querySelector('[data-element-id="' + safe + '"]');
  }

  function clearProblems() {
    Array.prototype.forEach.call(box.querySelectorAll(".cf-problem"), function (n) { n.classList.remove("cf-problem"); });
    box.setAttribute("data-problems", "");
  }

  function showProblems(problems, heading) {
    clearProblems();
    var card = document.getElementById("problems-card");
    var host = document.getElementById("problems");
    host.textContent = "";
    if (!problems.length) { card.hidden = true; return; }
    card.hidden = false;
    document.getElementById("problems-h").textContent = heading;
    var marked = [];
    var rows = problems.map(function (p) {
      var cell = (!p.file || p.file === fileName) ? cellOf(p.element_id) : null;
      if (cell) { cell.classList.add("cf-problem"); marked.push(p.element_id); }
      return h("tr", { "data-element": p.element_id || "" }, [
        h("td", {}, [h("span", { "class": "badge " + (p.severity === "error" ? "stop" : "rework"), text: p.severity })]),
        h("td", { text: p.file || "" }),
        h("td", {}, [p.element_id ? h("code", { text: p.element_id }) : null, p.element_name ? " " + p.element_name : null]),
        h("td", { "class": "num", text: p.line ? String(p.line) : "" }),
        h("td", { text: p.message })]);
    });
    host.appendChild(h("table", { "class": "list small", id: "problem-table" }, [
      h("thead", {}, [h("tr", {}, ["Severity", "File", "Element", "Line", "Problem"].map(function (t) { return h("th", { scope: "col", text: t }); }))]),
      h("tbody", {}, rows)]));
    box.setAttribute("data-problems", marked.join(" "));
  }

  /* The file as the editor has it. A cell being typed in is committed first (dmn-js writes it on blur). */
  function xml() {
    if (document.activeElement && box.contains(document.activeElement)) document.activeElement.blur();
    return modeler.saveXML({ format: true }).then(function (result) { return result.xml; });
  }

  // ------------------------------------------------------------------ start
  document.addEventListener("DOMContentLoaded", function () {
    var status = box.querySelector(".diagram-status");
    if (typeof window.DmnJS !== "function") { status.textContent = "The decision table editor did not load."; return; }
    modeler = new window.DmnJS({ container: box.querySelector(".canvas") });
    window.collabflowDecisions = modeler;  // for people debugging in the console, and the browser tests
    modeler.on("views.changed", function () { watch(); });
    fetch(root.getAttribute("data-xml"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
      .then(function (text) { return modeler.importXML(text); })
      .then(function (result) {
        return openTable().then(function (opened) {
          box.classList.add("ready");
          box.setAttribute("data-drawn", opened ? "true" : "no-table");
          if (!opened) say("This file has no decision table: only a decision table can run here.", "bad");
          if (result.warnings && result.warnings.length) {
            var warn = document.getElementById("import-warnings");
            warn.hidden = false;
            warn.textContent = "dmn-js could not read " + result.warnings.length + " part(s) of this file; saving would drop them: " +
              result.warnings.slice(0, 5).map(function (w) { return w.message; }).join("; ");
          }
          setDirty(false);
          document.getElementById("save-draft").addEventListener("click", workbench.saveDraft);
          document.getElementById("validate").addEventListener("click", workbench.validate);
          document.getElementById("deploy").addEventListener("click", workbench.deploy);
        });
      })
      .catch(function (error) {
        status.textContent = "This decision table cannot be opened (" + (error.message || error) + ").";
        box.setAttribute("data-drawn", "error");
      });
  });
})();
