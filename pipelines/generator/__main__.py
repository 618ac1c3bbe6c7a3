"""`python -m pipelines.generator`: generated traffic to Kafka (cli.py), from the command line."""

import sys

from pipelines.command_line import quiet_harmless_warnings

if __name__ == '__main__':
    quiet_harmless_warnings()  # before kafka-python is imported
    from pipelines.generator.cli import main  # pylint: disable=import-outside-toplevel

    sys.exit(main(sys.argv[1:]))
