"""Taking a course: my learning, the lesson player, quizzes, progress and certificates."""
