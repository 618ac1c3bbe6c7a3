"""`python -m pipelines.generator`: generated traffic to Kafka (cli.py), from the command line."""
import sys

from pipelines.generator.cli import main

if __name__ == '__main__':
    sys.exit(main())
