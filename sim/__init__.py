"""Central Asia influence simulator.

Japan, China and Russia (or any powers a scenario names) compete for economic footprint,
goodwill and diplomatic capital in the Central Asian states. Scenario files drive repeatable,
seeded runs of a vectorised engine; a Mesa model presents the same engine to notebooks and
dashboards.
"""

__version__ = "0.1.0"
