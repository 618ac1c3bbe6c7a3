"""Packaging for goldstream: `pip install .` locally, `--setup_file ./setup.py` for Dataflow.

The runtime requirements are read from requirements.txt minus the test-only tools and the
Dataflow client libraries, so workers get exactly the pinned versions the tests ran with. The
client libraries are needed only where a job is built and submitted (the `dataflow` extra):
Beam's Dataflow worker container has its own copies, which a second pin would replace on every
worker.
"""

import pathlib

import setuptools

HERE = pathlib.Path(__file__).resolve().parent
TEST_ONLY = ('pytest', 'pytest-timeout', 'hypothesis', 'ruff', 'mypy')  # and the linters
SUBMIT_ONLY = ('google-cloud-dataflow-client', 'google-cloud-storage', 'google-auth-httplib2')


def pinned_requirements():
    """The `name==version` lines of requirements.txt."""
    pins = []
    for line in (HERE / 'requirements.txt').read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            pins.append(line)
    return pins


def requirements(names=None, exclude=()):
    """The pins of `names` (all if None), less those of `exclude`."""
    return [
        pin
        for pin in pinned_requirements()
        if (names is None or pin.split('==')[0] in names) and pin.split('==')[0] not in exclude
    ]


setuptools.setup(
    name='goldstream',
    version='0.1.0',
    description='Order analytics and card fraud detection on Apache Beam, with a pure-Python '
    'Kafka source and sink.',
    long_description=(HERE / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    python_requires='>=3.10',
    packages=setuptools.find_packages(
        include=['connectors*', 'transforms*', 'pipelines*', 'schemas*']
    ),
    package_data={'schemas': ['*.avsc', 'catalogue.json']},
    install_requires=requirements(exclude=TEST_ONLY + SUBMIT_ONLY),
    extras_require={'dataflow': requirements(SUBMIT_ONLY)},
)
