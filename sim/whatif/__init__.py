"""What-if tools: compare scenarios with paired seeds, explain a run, report a results folder."""
