"""nbgrader settings for the course, loaded by the root nbgrader_config.py."""

c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "rectified"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# The data and helper package live at the repository root, not in each assignment folder.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

# Per-cell limit; experiment cells shrink under NBGRADER_EXECUTION and test cells take milliseconds.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 50

# TensorFlow's start-up lines go to stderr, and nbgrader gives 0 to a test cell with any stderr.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"absl::InitializeLog|cpu_feature_guard|oneDNN custom operations|"
    r"Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered"
)

c.ExchangeCollect.check_owner = False
c.ExchangeSubmit.strict = True
