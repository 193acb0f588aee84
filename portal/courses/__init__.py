"""Courses: create, structure, publish and co-teach your courses."""
