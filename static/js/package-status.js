// Evidence packages on the report page, progressively enhanced (the CSP forbids inline
// scripts, so this file is loaded). Without JavaScript the form posts and the page reloads
// with a message; with it, the button asks in the background and stays disabled, saying how
// far the build is, until the package is ready (then the download link shows) or failed.
// Rows of packages still in the works are polled until they finish.
(function () {
  "use strict";
  var POLL_MS = 1500;
  var table = document.querySelector("table[data-packages]");
  var form = document.querySelector("form[data-package-form]");
  var button = form && form.querySelector("button[type=submit]");
  var message = document.querySelector("[data-package-message]");

  function say(text, level) {
    if (!message) return;
    message.textContent = text;
    message.classList.toggle("error", level === "error");
  }

  function busy(text) {
    if (!button) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = text;
  }

  function idle() {
    if (!button) return;
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = button.dataset.idleText || "Build evidence package";
  }

  function show(row, p) {
    row.dataset.status = p.status;
    row.querySelector("progress").value = p.progress;
    row.querySelector(".package-status").textContent =
      (p.status_label || p.status) + (p.error ? ": " + p.error : "");
    if (p.status === "ready" && p.download_url && !row.querySelector("[data-testid=package-download]")) {
      var link = document.createElement("a");
      link.href = p.download_url;
      link.textContent = "Download zip";
      link.dataset.testid = "package-download";
      row.querySelector(".package-link").replaceChildren(link);
    }
  }

  function finished(status) { return status === "ready" || status === "failed"; }

  // Poll one row; `mine` is the package this page just asked for (the button follows it).
  function watch(row, mine) {
    if (finished(row.dataset.status)) return;
    var timer = setInterval(function () {
      fetch(row.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) {
        if (!r.ok) { clearInterval(timer); if (mine) idle(); return null; }
        return r.json();
      }).then(function (p) {
        if (!p) return;
        show(row, p);
        if (mine && !finished(p.status)) busy("Building… " + p.progress + "%");
        if (!finished(p.status)) return;
        clearInterval(timer);
        if (!mine) return;
        idle();
        if (p.status === "ready") say("Evidence package #" + p.id + " built: download it below.", "success");
        else say("Evidence package #" + p.id + " could not be built: " + (p.error || "unknown error"), "error");
      }).catch(function () { /* the network hiccuped: try again at the next tick */ });
    }, POLL_MS);
  }

  function rowFor(p) {
    var row = table.querySelector('tr[data-package="' + p.id + '"]');
    if (row) return row;
    row = document.createElement("tr");
    row.dataset.package = p.id;
    row.dataset.statusUrl = p.status_url;
    row.dataset.status = p.status;
    var cells = [String(p.id), p.created_at.slice(0, 16).replace("T", " ") + " UTC by " + p.requested_by, "", "", ""];
    cells.forEach(function (text, index) {
      var cell = document.createElement("td");
      cell.textContent = text;
      if (index === 2) cell.className = "package-status";
      if (index === 4) cell.className = "package-link";
      if (index === 3) {
        var bar = document.createElement("progress");
        bar.max = 100;
        bar.value = p.progress;
        bar.setAttribute("aria-label", "Progress of package " + p.id);
        cell.appendChild(bar);
      }
      row.appendChild(cell);
    });
    table.tBodies[0].prepend(row);
    table.hidden = false;
    return row;
  }

  if (table) {
    table.querySelectorAll("tr[data-package]").forEach(function (row) { watch(row, false); });
  }

  if (form && button && table && window.fetch && window.FormData) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (button.disabled) return;
      busy("Requesting the package…");
      say("", null);
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: {"Accept": "application/json"},
      }).then(function (r) {
        if (r.ok) return r.json();
        // The error page says why (its role=alert element); say it here.
        return r.text().then(function (text) {
          var alert = new DOMParser().parseFromString(text, "text/html").querySelector("[role=alert]");
          throw new Error(alert ? alert.textContent.trim() : "the server refused (" + r.status + ")");
        });
      }).then(function (p) {
        var row = rowFor(p);
        show(row, p);
        say(p.message, p.level_tag);
        if (finished(p.status)) { idle(); return; }
        busy("Building… " + p.progress + "%");
        watch(row, true);
      }).catch(function (error) {
        idle();
        say("The package was not requested: " + error.message.replace(/\.$/, "") + ".", "error");
      });
    });
  }
})();
