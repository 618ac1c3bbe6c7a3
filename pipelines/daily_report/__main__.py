"""`python -m pipelines.daily_report`: the daily report (pipeline.py), from the command line."""

import sys

from pipelines.command_line import quiet_harmless_warnings

if __name__ == '__main__':
    quiet_harmless_warnings()  # before Beam is imported: it logs "apitools not found"
    from pipelines.daily_report.pipeline import main  # pylint: disable=import-outside-toplevel

    sys.exit(main(sys.argv[1:]))
