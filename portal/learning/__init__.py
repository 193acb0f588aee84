"""Taking a course: my learning, the lesson player, quizzes, progress and certificates.

routes.py (the ``learning`` blueprint, thin views), queries.py (the named
queries, under the request's role), certificates.py (the PDF).
"""
