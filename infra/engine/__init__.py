"""Engines: one protocol (preview, up, refresh, outputs) and one Verdict, for the offline gate and the Pulumi CLI."""
