"""Lockstep: scheduled workflows defined once, deployed to AWS, Azure, GCP and on-prem in lockstep."""
