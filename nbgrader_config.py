# Lets plain `nbgrader ...` commands work from the repository root.
c = get_config()  # noqa: F821
load_subconfig("autograder/nbgrader_config.py")  # noqa: F821
