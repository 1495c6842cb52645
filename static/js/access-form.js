// The access request form: show the published rule for the agent and capability picked,
// from the policy the server renders in the #policy-data JSON.
(function () {
  const data = JSON.parse(document.getElementById("policy-data").textContent);
  const agent = document.getElementById("id_agent");
  const capability = document.getElementById("id_capability");
  const hint = document.getElementById("rule-hint");
  const words = {
    allow: "standing allow: nothing to request",
    jit: "just-in-time: approved at once",
    approval: "needs security approval",
    deny: "denied: ask for a policy exception instead",
  };
  function update() {
    const tier = data.tiers[agent.value];
    const key = capability.value;
    if (!tier || !key) { hint.textContent = "Pick an agent and a capability to see the rule."; return; }
    const rule = (data.rules[tier] || {})[key];
    if (!rule) { hint.textContent = `Policy v${data.version}: no rule for ${key} on ${tier} agents (deny): ask for a policy exception instead.`; return; }
    const max = rule.max ? `, at most ${rule.max} hours` : "";
    hint.textContent = `Policy v${data.version}, ${tier} tier: ${key} is ${rule.effect} (${words[rule.effect]}${max}).`;
  }
  agent.addEventListener("change", update);
  capability.addEventListener("change", update);
  update();
})();
