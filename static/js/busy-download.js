// Export links marked data-busy-download fetch their file in the page, so the link can say
// what is happening ("Rendering the PDF…", then the size received) and refuse a second click
// while it works; the file is then saved under the server's name. Without JavaScript (or if
// fetch is missing) they stay plain links. The CSP forbids inline scripts: this file is loaded.
(function () {
  "use strict";
  if (!window.fetch || !window.URL || !URL.createObjectURL) return;
  var status = document.querySelector("[data-export-status]");

  function say(text, failed) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", Boolean(failed));
  }

  function filename(response, fallback) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename="?([^";]+)"?/.exec(header);
    return match ? match[1] : fallback;
  }

  function size(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + " KB";
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  // Read the body chunk by chunk, saying how much has arrived.
  function readAll(response, link, label) {
    if (!response.body || !response.body.getReader) return response.blob();
    var reader = response.body.getReader();
    var chunks = [];
    var received = 0;
    function pump() {
      return reader.read().then(function (step) {
        if (step.done) return new Blob(chunks, {type: response.headers.get("Content-Type") || ""});
        chunks.push(step.value);
        received += step.value.length;
        link.textContent = label + " " + size(received);
        return pump();
      });
    }
    return pump();
  }

  function save(blob, name) {
    var url = URL.createObjectURL(blob);
    var anchor = document.createElement("a");
    anchor.href = url;
    anchor.download = name;
    anchor.hidden = true;
    document.body.appendChild(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  }

  function errorText(response) {
    return response.text().then(function (text) {
      try { return JSON.parse(text).detail || text; } catch (e) { /* an HTML error page */ }
      var page = new DOMParser().parseFromString(text, "text/html");
      var alert = page.querySelector("[role=alert], main");
      return (alert ? alert.textContent : text).trim().slice(0, 300);
    });
  }

  document.querySelectorAll("a[data-busy-download]").forEach(function (link) {
    var idle = link.textContent;
    link.addEventListener("click", function (event) {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
        return; // a new tab or window: the browser downloads it itself
      }
      event.preventDefault();
      if (link.getAttribute("aria-disabled") === "true") return; // already working
      var label = link.dataset.busyText || "Preparing…";
      link.setAttribute("aria-disabled", "true");
      link.setAttribute("aria-busy", "true");
      link.classList.add("busy");
      link.textContent = label;
      say(label, false);
      var fallback = link.pathname.split("/").filter(Boolean).pop();
      fetch(link.href, {credentials: "same-origin"}).then(function (response) {
        if (!response.ok) {
          return errorText(response).then(function (text) { throw new Error(text); });
        }
        var name = filename(response, fallback);
        return readAll(response, link, label).then(function (blob) {
          save(blob, name);
          say(name + " downloaded (" + size(blob.size) + ").", false);
        });
      }).catch(function (error) {
        say("The export failed: " + (error.message || "the server did not answer").replace(/\.$/, "") + ".", true);
      }).then(function () {
        link.textContent = idle;
        link.removeAttribute("aria-disabled");
        link.removeAttribute("aria-busy");
        link.classList.remove("busy");
      });
    });
  });
})();
