"""`python -m pipelines.streaming`: the streaming pipeline (pipeline.py), from the command line."""
import logging
import sys

from pipelines.streaming.pipeline import main

if __name__ == '__main__':
    logging.getLogger().setLevel(logging.WARNING)
    sys.exit(main(sys.argv[1:]))
