"""Rectified's grading package: the nbgrader configuration and `python -m autograder grade`."""
