// The exception form: show the limits of the risk picked (longest window, latest expiry,
// approvals needed). The server renders the numbers: the longest days per risk in the
// #max-days JSON, the elevated risks in the hint's data-elevated-risks attribute, and the
// approvals each risk needs in its row of the limits table (data-approvals).
(function () {
  const maxDays = JSON.parse(document.getElementById("max-days").textContent);
  const risk = document.getElementById("id_risk");
  const starts = document.getElementById("id_starts_at");
  const hint = document.getElementById("risk-hint");
  const elevatedRisks = hint.dataset.elevatedRisks.split(" ");
  const inWords = ["no", "one", "two", "three", "four"];
  function approvalsFor(value) {
    const row = Array.from(document.querySelectorAll("tr[data-risk]"))
      .find(function (tr) { return tr.dataset.risk === value; });
    return row ? Number(row.dataset.approvals) : NaN;
  }
  function pad(n) { return String(n).padStart(2, "0"); }
  function update() {
    const days = maxDays[risk.value];
    if (!days) { hint.textContent = "Pick a risk to see its limits."; return; }
    const elevated = elevatedRisks.includes(risk.value);
    const from = starts.value ? new Date(starts.value + "Z") : new Date();
    const until = new Date(from.getTime() + days * 86400000);
    const latest = `${until.getUTCFullYear()}-${pad(until.getUTCMonth() + 1)}-${pad(until.getUTCDate())} ${pad(until.getUTCHours())}:${pad(until.getUTCMinutes())} UTC`;
    const needed = approvalsFor(risk.value);
    const count = inWords[needed] || String(needed);
    let approvalsNeeded = "";  // said only when the table gives the number
    if (Number.isInteger(needed)) {
      approvalsNeeded = needed > 1 ? `needs ${count} distinct security approvers.`
                                   : `needs ${count} security approval.`;
    }
    hint.textContent = `${risk.value} risk: at most ${days} days (expires at the latest ${latest}); ` +
      (elevated ? "compensating controls required; " : "") + approvalsNeeded;
  }
  risk.addEventListener("change", update);
  starts.addEventListener("change", update);
  update();
})();
