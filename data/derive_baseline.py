"""Derive the baseline's computed initial values (docs/DATA.md, "Derived values").

Investment stocks, dependence, trade and GDP are sourced figures (docs/DATA_STRUCTURAL.md);
this script computes the rest from them and the scenario's budgets, and prints the state blocks
of scenarios/baseline.yaml:

- goodwill and diplomatic capital at their steady state under the baseline's spending:
  G = openness x soft-power spend / goodwill decay, D = openness x (diplomacy spend + k_v x
  visibility x gated investment) / diplomatic decay;
- autonomy (the residual) such that the three powers' initial influence shares sum to the sum
  of their trade shares (the residual keeps the meaning of the state's ties to everyone else);
- absorptive capacity = a year's foreign investment and loans x the three powers' part / 4.

Run from the repository root: ``python data/derive_baseline.py`` (it reads the scenario's
budgets, so run it after changing them and paste the printed blocks back).
"""

import numpy as np
import yaml
from sim.scenario import load_scenario
from sim.engine import compile_scenario, make_batch, rules
sc = load_scenario("scenarios/baseline.yaml")
st, pa = compile_scenario(sc); b = make_batch(st, pa, [1]); ba = b.budget_allocation[0].astype(float)
risk = rules.state_risk(pa.stability, pa.border_disputes, pa.instability_weight, pa.dispute_weight)
gate = rules.investment_gate(risk, b.tolerance, pa.risk_softness)[0].astype(float)
S, P = st.states, st.powers
op = {s: sc.states[s].openness for s in S}
vis = {p: sc.powers[p].visibility for p in P}
# data (USD m); see docs/DATA.md
E = {"kazakhstan": dict(china=10900, russia=8500, japan=6000),
     "kyrgyzstan": dict(china=1900, russia=1900, japan=50),
     "tajikistan": dict(china=2100, russia=1200, japan=100),
     "turkmenistan": dict(china=9500, russia=300, japan=100),
     "uzbekistan": dict(china=10000, russia=9000, japan=500)}
DEP = {
 "kazakhstan": dict(energy=dict(china=5100, russia=5900, japan=300), remittances=dict(russia=300), security=dict(china=20, russia=500), debt=dict(china=1000, japan=200)),
 "kyrgyzstan": dict(energy=dict(russia=600), remittances=dict(russia=2566), security=dict(china=20, russia=200), debt=dict(china=1650, japan=250)),
 "tajikistan": dict(energy=dict(russia=665), remittances=dict(russia=4600), security=dict(china=100, russia=600, japan=5), debt=dict(china=1000, japan=10)),
 "turkmenistan": dict(energy=dict(china=9600, russia=600), remittances=dict(russia=50), security=dict(china=50, russia=50), debt=dict(japan=100)),
 "uzbekistan": dict(energy=dict(china=400, russia=900), remittances=dict(china=20, russia=11400, japan=20), security=dict(china=20, russia=150), debt=dict(china=3800, russia=300, japan=2300)),
}
W = dict(energy=0.5, remittances=1.0, security=1.0, debt=0.5)
ECON = {  # gdp, gdp_growth, trade total, trade growth, trade_with (USD bn, 2024 unless noted)
 "kazakhstan": (291, 0.07, 140, 0.04, dict(china=31.5, russia=26.0, japan=1.9)),
 "kyrgyzstan": (17.1, 0.08, 17.0, 0.05, dict(china=5.8, russia=2.8, japan=0.08)),
 "tajikistan": (13.7, 0.08, 8.9, 0.05, dict(china=1.74, russia=1.83, japan=0.04)),
 "turkmenistan": (64.0, 0.05, 19.5, 0.03, dict(china=10.6, russia=1.3, japan=0.08)),
 "uzbekistan": (115.0, 0.09, 65.9, 0.06, dict(china=14.4, russia=10.4, japan=1.4)),
}
POOL = {  # foreign investment and loans a year (all sources, USD m) x the three powers' part
 "kazakhstan": (25000, 0.17), "kyrgyzstan": (2000, 0.46), "tajikistan": (4900, 0.085),
 "turkmenistan": (2000, 0.8), "uzbekistan": (27700, 0.42),
}
out = {}
for i, s in enumerate(S):
    ini = {"footprint": {}, "goodwill": {}, "diplomatic": {}}
    A = 0.0
    for j, p in enumerate(P):
        g = op[s] * ba[1, i, j] / 0.03
        d = op[s] * (ba[2, i, j] + 0.2 * vis[p] * ba[0, i, j] * gate[i, j]) / 0.08
        ini["footprint"][p] = E[s][p]; ini["goodwill"][p] = round(g); ini["diplomatic"][p] = round(d)
        x = sum(W[c] * DEP[s].get(c, {}).get(p, 0) for c in W)
        A += E[s][p] + round(g) + round(d) + x
    tw = ECON[s][4]; share_sum = sum(tw.values()) / ECON[s][2]
    autonomy = round(A * (1 - share_sum) / share_sum)
    # capacity: 25% headroom over the powers' baseline investment
    demand = float((ba[0, i] * gate[i]).sum())
    out[s] = dict(initial=ini, dependence=DEP[s], autonomy=autonomy, capacity=round(POOL[s][0] * POOL[s][1] / 4),
                  economy=dict(gdp_usd_bn=ECON[s][0], gdp_growth=ECON[s][1], trade_usd_bn=ECON[s][2], trade_growth=ECON[s][3], trade_with=tw))
    print(s, "autonomy", autonomy, "capacity", round(POOL[s][0] * POOL[s][1] / 4), "demand", round(demand), "share_sum", round(share_sum, 3))
print(yaml.safe_dump(out, sort_keys=False, default_flow_style=None))
