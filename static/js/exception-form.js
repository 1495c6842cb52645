// The exception form: show the limits of the risk picked (longest window, latest expiry,
// approvals needed). The server renders the numbers: the longest days per risk in the
// #max-days JSON, and the elevated risks in the hint's data-elevated-risks attribute.
(function () {
  const maxDays = JSON.parse(document.getElementById("max-days").textContent);
  const risk = document.getElementById("id_risk");
  const starts = document.getElementById("id_starts_at");
  const hint = document.getElementById("risk-hint");
  const elevatedRisks = hint.dataset.elevatedRisks.split(" ");
  function pad(n) { return String(n).padStart(2, "0"); }
  function update() {
    const days = maxDays[risk.value];
    if (!days) { hint.textContent = "Pick a risk to see its limits."; return; }
    const elevated = elevatedRisks.includes(risk.value);
    const from = starts.value ? new Date(starts.value + "Z") : new Date();
    const until = new Date(from.getTime() + days * 86400000);
    const latest = `${until.getUTCFullYear()}-${pad(until.getUTCMonth() + 1)}-${pad(until.getUTCDate())} ${pad(until.getUTCHours())}:${pad(until.getUTCMinutes())} UTC`;
    hint.textContent = `${risk.value} risk: at most ${days} days (expires at the latest ${latest}); ` +
      (elevated ? "compensating controls required; needs two distinct security approvers."
                : "needs one security approval.");
  }
  risk.addEventListener("change", update);
  starts.addEventListener("change", update);
  update();
})();
