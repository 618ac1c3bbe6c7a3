"""Suite-wide settings: TestPipeline never downloads a runner.

The DirectRunner hands most pipelines to Prism; without `prism_location` Beam would try to
download a Prism release, which these machines cannot reach. Point it at the Prism that
`./run_local.sh setup` built (a `--test-pipeline-options` given on the command line wins).
"""
from apache_beam.testing.test_pipeline import TestPipeline

from pipelines.local_runtime import prism_binary

if TestPipeline.pytest_test_pipeline_options is None:
    TestPipeline.pytest_test_pipeline_options = f'--prism_location={prism_binary()}'
