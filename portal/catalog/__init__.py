"""The student side: the course catalog and the student's own learning."""
