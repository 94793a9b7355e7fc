"""Outcomes: what each pruned model scores and costs, read from the files people have, linked to its record, checked."""
