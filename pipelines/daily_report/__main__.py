"""`python -m pipelines.daily_report`: the daily report (pipeline.py), from the command line."""
import logging
import sys

from pipelines.daily_report.pipeline import main

if __name__ == '__main__':
    logging.getLogger().setLevel(logging.WARNING)
    sys.exit(main(sys.argv[1:]))
