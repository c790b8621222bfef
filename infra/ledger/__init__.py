"""The deployment ledger: hash-chained, signed entries, one commit each, on a git branch with compare-and-swap pushes."""
