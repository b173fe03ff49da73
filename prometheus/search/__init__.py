"""Similar-state search: the state index, exact ranking and explanations."""
