"""Packaging for goldstream: `pip install .` locally, `--setup_file ./setup.py` for Dataflow.

The runtime requirements are read from requirements.txt minus the test-only tools, so workers
get exactly the pinned versions the tests ran with.
"""
import pathlib

import setuptools

HERE = pathlib.Path(__file__).resolve().parent
TEST_ONLY = ('pytest', 'pytest-timeout', 'hypothesis')


def runtime_requirements():
    pins = []
    for line in (HERE / 'requirements.txt').read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if line and line.split('==')[0] not in TEST_ONLY:
            pins.append(line)
    return pins


setuptools.setup(
    name='goldstream',
    version='0.1.0',
    description='Order analytics and card fraud detection on Apache Beam, with a pure-Python '
                'Kafka source and sink.',
    long_description=(HERE / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    python_requires='>=3.10',
    packages=setuptools.find_packages(include=['connectors*', 'transforms*', 'pipelines*',
                                               'schemas*']),
    package_data={'schemas': ['*.avsc', 'catalogue.json']},
    install_requires=runtime_requirements(),
)
