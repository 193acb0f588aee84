"""Courses: the instructor's workbench (list, details, curriculum, drip, team, insight)."""
