"""Schedule semantics: the canonical schedule, each platform's dialect, fire times and equivalence."""
