"""Enrolling in a course from its catalog page (views on the catalog's blueprint)."""
