// Confirmations (approvals.confirm): a link to a step's confirmation page, which works without
// JavaScript, opens the same form in a native <dialog> instead. "Keep …" and Escape close it
// and return the focus to the link. Included once per template that offers steps; each link is
// wired once however many times the script runs.
(function () {
  function wire(link) {
    const dialog = document.getElementById(link.dataset.confirm);
    if (link.dataset.confirmReady || !dialog || typeof dialog.showModal !== "function") return;
    link.dataset.confirmReady = "1";
    link.addEventListener("click", function (event) {
      event.preventDefault();
      dialog.showModal();
      const first = dialog.querySelector("textarea, button[type=submit]");
      if (first) first.focus();
    });
    dialog.querySelectorAll("[data-close]").forEach(function (close) {
      close.addEventListener("click", function (event) {
        event.preventDefault();
        dialog.close();
      });
    });
    dialog.addEventListener("close", function () { link.focus(); });
  }
  document.querySelectorAll("a[data-confirm]").forEach(wire);
})();
