"""The curriculum of a course (modules, lessons, quizzes) and its drip release."""
