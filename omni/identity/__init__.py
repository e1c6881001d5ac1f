"""Identity resolution report: how records became people (merge rates, profile sizes, rule impact, accuracy)."""
