"""Carrier allocation: rules reject, scoring ranks, the optimizer plans a whole batch."""
