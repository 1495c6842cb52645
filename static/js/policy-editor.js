// The draft matrix: mark the cells changed since the page loaded, say how many are unsaved,
// and ask before leaving the page with unsaved changes. Without this script the form works
// the same; it only keeps people from losing their work.
(function () {
  "use strict";
  const form = document.getElementById("draft-form");
  if (!form) return;
  const status = form.querySelector("[data-testid=unsaved]");
  const fields = Array.from(form.querySelectorAll("select, input[type=number]"));
  const initial = new Map(fields.map((field) => [field, field.value]));
  let submitting = false;

  function changedCells() {
    const cells = new Set();
    fields.forEach((field) => {
      const cell = field.closest("td");
      if (field.value !== initial.get(field)) cells.add(cell);
    });
    return cells;
  }

  function refresh() {
    const cells = changedCells();
    form.querySelectorAll("td.cell-changed").forEach((cell) => {
      if (!cells.has(cell)) cell.classList.remove("cell-changed");
    });
    cells.forEach((cell) => cell.classList.add("cell-changed"));
    status.textContent = cells.size
      ? `${cells.size} unsaved change${cells.size === 1 ? "" : "s"}`
      : "";
  }

  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  form.addEventListener("submit", () => { submitting = true; });
  window.addEventListener("beforeunload", (event) => {
    if (!submitting && changedCells().size) {
      event.preventDefault();
      event.returnValue = form.dataset.unsavedWarning;
    }
  });
  // A page shown again after a refused save holds what was typed: count it as unsaved.
  if (form.querySelector(".cell-error")) {
    status.textContent = "Not saved yet: fix the cells marked in red, then save.";
  }
})();
