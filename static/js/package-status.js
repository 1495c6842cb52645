// Poll each unfinished package until it is ready or failed; then show the download link.
document.querySelectorAll("tr[data-package]").forEach(function (row) {
  if (row.dataset.status === "ready" || row.dataset.status === "failed") return;
  var timer = setInterval(function () {
    fetch(row.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { clearInterval(timer); return null; }
      return r.json();
    }).then(function (p) {
      if (!p) return;
      row.querySelector("progress").value = p.progress;
      row.querySelector(".package-status").textContent = p.status + (p.error ? ": " + p.error : "");
      if (p.status === "ready") {
        var link = document.createElement("a");
        link.href = p.download_url; link.textContent = "Download zip";
        link.dataset.testid = "package-download";
        row.querySelector(".package-link").replaceChildren(link);
      }
      if (p.status === "ready" || p.status === "failed") clearInterval(timer);
    });
  }, 1500);
});
