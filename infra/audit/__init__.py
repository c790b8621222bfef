"""The auditor's view of the ledger: read it from a clone, fold it into a history, check it, report it."""
