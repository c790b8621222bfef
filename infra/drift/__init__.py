"""Drift: compare what git declares with what every platform runs, and capture manual changes as incidents.

desired (git -> Desired per workflow and target), collect (live readers -> the same Desired), compare (findings,
tolerance, fire times across targets), reconcile (incidents: record, adopt into git, revert by redeploy).
"""
