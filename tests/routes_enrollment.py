"""The enrollment area's route rules, each tested as every actor by its own test modules
(test_web_routes.py fails on any route that no such table names)."""

RULES: set[str] = set()
