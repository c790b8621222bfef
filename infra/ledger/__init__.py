"""The deployment ledger: hash-chained, signed entries, one commit each, on a git branch appended by CAS pushes."""
