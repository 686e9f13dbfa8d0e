"""Use cases: one short function each; they open no connections themselves, they are handed a Runtime."""
