"""Students: follow each student's progress and engagement across your courses."""
